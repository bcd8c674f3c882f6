"""Auditing the ledger from genesis: trust nothing but the chain.

`build_report(registry)` replays every event of the deployment through the registry's rules into a rebuilt
state (`replay`, `state`, `invariants`), compares that state with the contract's own views (`views`) and the
deployed code with what `contracts/` compiles to (`provenance`), and returns an `AuditReport` with a digest
two auditors compare in one line (`digest`). `audit_credential` answers "was this certificate valid on that
day". `export` writes the CSV files.
"""

from typing import TYPE_CHECKING

from credreg._lazy import lazy_exports

if TYPE_CHECKING:
    from credreg.audit.digest import SCHEME, Canon, EventChain, digest_events
    from credreg.audit.export import events_csv, write_credentials_csv
    from credreg.audit.findings import RULES, EventRef, Finding
    from credreg.audit.provenance import ProvenanceResult, check_provenance
    from credreg.audit.replay import Replayer, checkpoint_path
    from credreg.audit.report import (
        AuditReport,
        CredentialAudit,
        audit_credential,
        build_report,
        report_from,
        resolve_block,
    )
    from credreg.audit.source import LogSource
    from credreg.audit.state import LedgerState
    from credreg.chain.states import Verdict

# Imported on first use: see credreg._lazy.
__getattr__ = lazy_exports(
    __name__,
    {
        "AuditReport": ("credreg.audit.report", "AuditReport"),
        "Canon": ("credreg.audit.digest", "Canon"),
        "CredentialAudit": ("credreg.audit.report", "CredentialAudit"),
        "EventChain": ("credreg.audit.digest", "EventChain"),
        "EventRef": ("credreg.audit.findings", "EventRef"),
        "Finding": ("credreg.audit.findings", "Finding"),
        "LedgerState": ("credreg.audit.state", "LedgerState"),
        "LogSource": ("credreg.audit.source", "LogSource"),
        "ProvenanceResult": ("credreg.audit.provenance", "ProvenanceResult"),
        "RULES": ("credreg.audit.findings", "RULES"),
        "Replayer": ("credreg.audit.replay", "Replayer"),
        "SCHEME": ("credreg.audit.digest", "SCHEME"),
        "Verdict": ("credreg.chain.states", "Verdict"),
        "audit_credential": ("credreg.audit.report", "audit_credential"),
        "build_report": ("credreg.audit.report", "build_report"),
        "check_provenance": ("credreg.audit.provenance", "check_provenance"),
        "checkpoint_path": ("credreg.audit.replay", "checkpoint_path"),
        "digest_events": ("credreg.audit.digest", "digest_events"),
        "events_csv": ("credreg.audit.export", "events_csv"),
        "report_from": ("credreg.audit.report", "report_from"),
        "resolve_block": ("credreg.audit.report", "resolve_block"),
        "write_credentials_csv": ("credreg.audit.export", "write_credentials_csv"),
    },
)

__all__ = [
    "RULES",
    "SCHEME",
    "AuditReport",
    "Canon",
    "CredentialAudit",
    "EventChain",
    "EventRef",
    "Finding",
    "LedgerState",
    "LogSource",
    "ProvenanceResult",
    "Replayer",
    "Verdict",
    "audit_credential",
    "build_report",
    "check_provenance",
    "checkpoint_path",
    "digest_events",
    "events_csv",
    "report_from",
    "resolve_block",
    "write_credentials_csv",
]
