"""credreg certificates as W3C Verifiable Credentials 2.0 and SD-JWT VCs, with status lists from the ledger.

No chain I/O here: what verification needs from the ledger comes through a `LedgerResolver`. The modules,
bottom up:

- `jsonld`: the shipped JSON-LD contexts (never fetched) and safe RDFC-1.0 canonicalization;
- `keys`: Ed25519 issuer and operator keys named as ``did:key``;
- `proof`: ``eddsa-rdfc-2022`` Data Integrity proofs;
- `statuslist`: status list positions from ledger events, revocation and suspension bitstrings, signed
  BitstringStatusListCredentials;
- `export`: a credreg document as a VC 2.0, and back;
- `sdjwt`: the same certificate as an SD-JWT VC, presentations that hide fields;
- `verify`: the named verification steps for both forms.

docs/interop.md compares these forms with the OpenAttestation document.
"""

from credreg.vc.export import (
    ACHIEVEMENT_TYPES,
    CREDENTIAL_TYPES,
    LedgerAnchor,
    StatusReference,
    VcContents,
    export_vc,
    read_vc,
    unsigned_vc,
)
from credreg.vc.jsonld import CONTEXTS, CREDENTIALS_V2, CREDREG_CONTEXT, canonicalize, document_loader
from credreg.vc.keys import SigningKey, did_key, generate_key, load_signing_key, public_key_from_did
from credreg.vc.proof import CRYPTOSUITE, ProofCheck, add_proof, check_proof
from credreg.vc.sdjwt import SD_JWT_TYPE, VCT, SdJwtCheck, issue_sd_jwt, present, verify_sd_jwt
from credreg.vc.statuslist import (
    LIST_SIZE,
    STATUS_PURPOSES,
    Batch,
    StatusEvent,
    StatusLists,
    build_status_lists,
    decode_list,
    encode_list,
    status_entries,
    status_list_credential,
    status_list_url,
    status_positions,
)
from credreg.vc.verify import (
    VC_STEPS,
    IssuerKeyRecord,
    LedgerRecord,
    LedgerResolver,
    verify_credential,
    verify_sd_jwt_vc,
    verify_vc,
)

__all__ = [
    "ACHIEVEMENT_TYPES",
    "CONTEXTS",
    "CREDENTIALS_V2",
    "CREDENTIAL_TYPES",
    "CREDREG_CONTEXT",
    "CRYPTOSUITE",
    "LIST_SIZE",
    "SD_JWT_TYPE",
    "STATUS_PURPOSES",
    "VCT",
    "VC_STEPS",
    "Batch",
    "IssuerKeyRecord",
    "LedgerAnchor",
    "LedgerRecord",
    "LedgerResolver",
    "ProofCheck",
    "SdJwtCheck",
    "SigningKey",
    "StatusEvent",
    "StatusLists",
    "StatusReference",
    "VcContents",
    "add_proof",
    "build_status_lists",
    "canonicalize",
    "check_proof",
    "decode_list",
    "did_key",
    "document_loader",
    "encode_list",
    "export_vc",
    "generate_key",
    "issue_sd_jwt",
    "load_signing_key",
    "present",
    "public_key_from_did",
    "read_vc",
    "status_entries",
    "status_list_credential",
    "status_list_url",
    "status_positions",
    "unsigned_vc",
    "verify_credential",
    "verify_sd_jwt",
    "verify_sd_jwt_vc",
    "verify_vc",
]
