"""What governors, agencies and relayers do with the credential registry, from Python.

    registry = Registry.connect(rpc_url, Manifest.load(path))
    governor = Governor(registry, governor_account)
    scope_id = governor.define_scope("4-04-05-01", 3, "Blockchain engineering technician, level 3")
    agency_id = governor.register_agency("Beijing Digital Skills Assessment Centre", "BJ-0001", admin)
    ...
    signed = registry.sign_issue(signer_account, registry.issue_request(root, scope_id))
    Relayer(registry, any_account).issue(signed)
    registry.credential_status(agency_id, root, leaf, proof)

Modules: `reads` (the connection and every view), `requests` (signed requests, made offline if need be),
`roles` (the transactions each party sends), `records` (what the views answer). The CLI and the HTTP service
are thin shells over these calls.
"""

from credreg.chain.states import AgencyState, Status, Verdict
from credreg.documents.model import scope_id as scope_id_of
from credreg.registry.reads import (
    CONTRACT_VERSION,
    STATUS_BATCH,
    ZERO_HASH,
    Registry,
    StatusQuery,
    same_major,
)
from credreg.registry.records import (
    AccreditationInfo,
    AgencyInfo,
    BlockHead,
    CredentialRecord,
    CredentialState,
    IssuerKeyInfo,
    ScopeInfo,
    SignerInfo,
    Snapshot,
    TargetStatus,
)
from credreg.registry.requests import (
    DEFAULT_VALIDITY,
    SignedBatchLeaves,
    SignedIssue,
    SignedStatusChange,
    default_deadline,
    leaves_hash,
    sign_batch_leaves,
    sign_issue,
    sign_status_change,
)
from credreg.registry.roles import AgencyAdmin, Governor, Relayer

__all__ = [
    "CONTRACT_VERSION",
    "DEFAULT_VALIDITY",
    "STATUS_BATCH",
    "ZERO_HASH",
    "AccreditationInfo",
    "AgencyAdmin",
    "AgencyInfo",
    "AgencyState",
    "BlockHead",
    "CredentialRecord",
    "CredentialState",
    "Governor",
    "IssuerKeyInfo",
    "Registry",
    "Relayer",
    "ScopeInfo",
    "SignedBatchLeaves",
    "SignedIssue",
    "SignedStatusChange",
    "SignerInfo",
    "Snapshot",
    "Status",
    "StatusQuery",
    "TargetStatus",
    "Verdict",
    "default_deadline",
    "leaves_hash",
    "same_major",
    "scope_id_of",
    "sign_batch_leaves",
    "sign_issue",
    "sign_status_change",
]
