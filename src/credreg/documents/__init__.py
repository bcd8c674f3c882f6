"""Certificates as OpenAttestation v2 documents: model, salting and hashing, merkle batches, disclosure.

Pure Python with no I/O (except `read_results`, which reads the file it is given). The layers, bottom up:

- `model`: the certificate model (three kinds, a union on `kind`) and `scope_id`;
- `canonical`: OpenAttestation's salting, flattening and field hashing, byte for byte;
- `merkle`: sorted-pair keccak256 trees, proofs and the nodes along a proof's path;
- `wrap`: wrapped documents in OpenAttestation v2's JSON shape, loading and integrity checks;
- `layout`: where certificate fields sit in a document's data, batches of certificates;
- `disclosure`: hiding fields so that the document still verifies;
- `results`: CSV and JSON-lines results files into certificates.

Typical issuance::

    certificates = read_results("results.csv", context=IssueContext(...))
    documents = wrap_certificates(certificates, identity_location="registry.example.org")
    root = documents[0]["signature"]["merkleRoot"]   # what goes on chain
"""

from credreg.documents.canonical import (
    MAX_SAFE_INTEGER,
    JSONValue,
    digest_data,
    field_hash,
    flatten,
    is_salted,
    js_string,
    json_stringify,
    random_salts,
    salt_and_hash,
    salt_data,
    salt_value,
    unsalt_data,
    unsalt_value,
)
from credreg.documents.disclosure import disclose
from credreg.documents.layout import (
    LAYOUT_VERSION,
    PROTECTED_FIELDS,
    BatchKey,
    DocumentBinding,
    batch_key,
    binding_from_document,
    certificate_from_document,
    certificate_to_data,
    hidden_fields,
    hideable_fields,
    wrap_certificates,
)
from credreg.documents.merkle import MerkleTree, combine, proof_path, to_bytes32, verify_proof
from credreg.documents.model import (
    CERTIFICATE_KINDS,
    CHINA_STANDARD_TIME,
    SKILL_LEVEL_TITLES,
    AgencyRef,
    AnyCertificate,
    Assessment,
    Certificate,
    CertificateKind,
    Competition,
    CompetitionAwardCertificate,
    Holder,
    IdDocumentType,
    SkillLevelCertificate,
    TechnicalGradeCertificate,
    expiry_timestamp,
    parse_certificate,
    resident_id_check_digit,
    scope_id,
)
from credreg.documents.results import RESULTS_COLUMNS, IssueContext, ResultsFormat, read_results
from credreg.documents.wrap import (
    OA_V2_SCHEMA,
    Privacy,
    Signature,
    WrappedDocument,
    check_merkle_proof,
    check_target_hash,
    compute_target_hash,
    document_data,
    dump_document,
    load_document,
    verify_signature,
    wrap_document,
    wrap_documents,
)

__all__ = [
    "CERTIFICATE_KINDS",
    "CHINA_STANDARD_TIME",
    "LAYOUT_VERSION",
    "MAX_SAFE_INTEGER",
    "OA_V2_SCHEMA",
    "PROTECTED_FIELDS",
    "RESULTS_COLUMNS",
    "SKILL_LEVEL_TITLES",
    "AgencyRef",
    "AnyCertificate",
    "Assessment",
    "BatchKey",
    "Certificate",
    "CertificateKind",
    "Competition",
    "CompetitionAwardCertificate",
    "DocumentBinding",
    "Holder",
    "IdDocumentType",
    "IssueContext",
    "JSONValue",
    "MerkleTree",
    "Privacy",
    "ResultsFormat",
    "Signature",
    "SkillLevelCertificate",
    "TechnicalGradeCertificate",
    "WrappedDocument",
    "batch_key",
    "binding_from_document",
    "certificate_from_document",
    "certificate_to_data",
    "check_merkle_proof",
    "check_target_hash",
    "combine",
    "compute_target_hash",
    "digest_data",
    "disclose",
    "document_data",
    "dump_document",
    "expiry_timestamp",
    "field_hash",
    "flatten",
    "hidden_fields",
    "hideable_fields",
    "is_salted",
    "js_string",
    "json_stringify",
    "load_document",
    "parse_certificate",
    "proof_path",
    "random_salts",
    "read_results",
    "resident_id_check_digit",
    "salt_and_hash",
    "salt_data",
    "salt_value",
    "scope_id",
    "to_bytes32",
    "unsalt_data",
    "unsalt_value",
    "verify_proof",
    "verify_signature",
    "wrap_certificates",
    "wrap_document",
    "wrap_documents",
]
