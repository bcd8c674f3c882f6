"""Auditing the ledger from genesis: trust nothing but the chain.

`build_report(registry)` replays every event of the deployment through the registry's rules into a rebuilt
state (`replay`, `state`, `invariants`), compares that state with the contract's own views (`views`) and the
deployed code with what `contracts/` compiles to (`provenance`), and returns an `AuditReport` with a digest
two auditors compare in one line (`digest`). `audit_credential` answers "was this certificate valid on that
day". `export` writes the CSV files.
"""

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
from credreg.audit.source import AuditEvent, FastDecoder, LogSource
from credreg.audit.state import LedgerState
from credreg.chain.states import Verdict

__all__ = [
    "RULES",
    "SCHEME",
    "AuditEvent",
    "AuditReport",
    "Canon",
    "CredentialAudit",
    "EventChain",
    "EventRef",
    "FastDecoder",
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
