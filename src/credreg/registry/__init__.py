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

from typing import TYPE_CHECKING

from credreg._lazy import lazy_exports

if TYPE_CHECKING:
    from credreg.chain.states import AgencyState, Status, Verdict
    from credreg.documents.model import scope_id as scope_id_of
    from credreg.registry.reads import (
        CONTRACT_VERSION,
        STATUS_BATCH,
        ZERO_HASH,
        LedgerReads,
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

# Imported on first use: see credreg._lazy.
__getattr__ = lazy_exports(
    __name__,
    {
        "AccreditationInfo": ("credreg.registry.records", "AccreditationInfo"),
        "AgencyAdmin": ("credreg.registry.roles", "AgencyAdmin"),
        "AgencyInfo": ("credreg.registry.records", "AgencyInfo"),
        "AgencyState": ("credreg.chain.states", "AgencyState"),
        "BlockHead": ("credreg.registry.records", "BlockHead"),
        "CONTRACT_VERSION": ("credreg.registry.reads", "CONTRACT_VERSION"),
        "CredentialRecord": ("credreg.registry.records", "CredentialRecord"),
        "CredentialState": ("credreg.registry.records", "CredentialState"),
        "DEFAULT_VALIDITY": ("credreg.registry.requests", "DEFAULT_VALIDITY"),
        "Governor": ("credreg.registry.roles", "Governor"),
        "IssuerKeyInfo": ("credreg.registry.records", "IssuerKeyInfo"),
        "LedgerReads": ("credreg.registry.reads", "LedgerReads"),
        "Registry": ("credreg.registry.reads", "Registry"),
        "Relayer": ("credreg.registry.roles", "Relayer"),
        "STATUS_BATCH": ("credreg.registry.reads", "STATUS_BATCH"),
        "ScopeInfo": ("credreg.registry.records", "ScopeInfo"),
        "SignedBatchLeaves": ("credreg.registry.requests", "SignedBatchLeaves"),
        "SignedIssue": ("credreg.registry.requests", "SignedIssue"),
        "SignedStatusChange": ("credreg.registry.requests", "SignedStatusChange"),
        "SignerInfo": ("credreg.registry.records", "SignerInfo"),
        "Snapshot": ("credreg.registry.records", "Snapshot"),
        "Status": ("credreg.chain.states", "Status"),
        "StatusQuery": ("credreg.registry.reads", "StatusQuery"),
        "TargetStatus": ("credreg.registry.records", "TargetStatus"),
        "Verdict": ("credreg.chain.states", "Verdict"),
        "leaves_hash": ("credreg.registry.requests", "leaves_hash"),
        "sign_batch_leaves": ("credreg.registry.requests", "sign_batch_leaves"),
        "ZERO_HASH": ("credreg.registry.reads", "ZERO_HASH"),
        "default_deadline": ("credreg.registry.requests", "default_deadline"),
        "same_major": ("credreg.registry.reads", "same_major"),
        "scope_id_of": ("credreg.documents.model", "scope_id"),
        "sign_issue": ("credreg.registry.requests", "sign_issue"),
        "sign_status_change": ("credreg.registry.requests", "sign_status_change"),
    },
)

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
    "LedgerReads",
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
