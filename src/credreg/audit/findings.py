"""What an audit can find wrong, each with the rule it breaks and the event that broke it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from credreg.audit.source import time_of
from credreg.chain.codec import LedgerEvent

FindingKind = Literal["invariant", "view", "provenance", "ledger"]

# Every rule the replay checks, by the code findings carry. The texts are the report's explanations.
RULES: dict[str, str] = {
    # governance
    "governor-mismatch": "ownership moves from the current governor, and only to the proposed one",
    "scope-id-mismatch": "a scope id is keccak256(abi.encode(occupationCode, level))",
    "scope-redefined": "a scope is defined once",
    "scope-index-out-of-order": "scope indexes are sequential from 1",
    "scope-unknown": "accreditations and issuances name defined scopes",
    "scope-retired": "a scope is retired once, at the block's time, and no agency is accredited for it since",
    "agency-id-out-of-order": "agency ids are sequential from 1",
    "agency-invalid": "an agency has a name, a registration code no other agency holds, and an admin",
    "agency-unknown": "events name registered agencies",
    "agency-transition": (
        "an agency is suspended only while active and reinstated only while suspended (suspensions and "
        "reinstatements alternate), and revoked at most once"
    ),
    "agency-revoked-acts": "after its revocation an agency is not accredited again and gets no new signer",
    "cutoff-in-future": "a revocation cut-off is not later than the block's time",
    "window-invalid": "a window ends after it starts, or is open-ended",
    "withdrawal-invalid": (
        "only an existing, not yet ended window is withdrawn or retired, and it then ends at the block's time"
    ),
    "signer-reused": "a signer key belongs to one agency forever",
    "signer-index-out-of-order": "signer indexes are sequential from 1",
    "signer-unknown": "events name added signer keys, of the agency they say",
    "compromise-time-invalid": (
        "a compromise time is non-zero, not later than the block's time, and earlier than one reported before"
    ),
    "issuer-key-reused": "an issuer key is non-zero and belongs to one agency forever",
    "issuer-key-unknown": "events name added issuer keys, of the agency they say",
    "admin-mismatch": "an admin transfer starts from the agency's current admin, to a non-zero address",
    "actor-not-authorised": "signer keys and admins are managed by the agency's admin or the governor",
    # issuance
    "root-reissued": "an agency issues a root once (other agencies' records of the same hash are theirs)",
    "issued-at-mismatch": "a root's issuedAt is the block's time",
    "expiry-invalid": "a credential's expiry is none or later than its issuance",
    "issuance-agency-not-active": "the issuing agency is active (registered, not suspended, not revoked)",
    "issuance-not-accredited": "the issuing agency is accredited for the scope at the block's time",
    "issuance-signer-invalid": (
        "the signer is a key of the issuing agency, inside its window and never reported compromised"
    ),
    # status changes
    "status-before-issuance": (
        "nothing is revoked, suspended or reinstated in an agency's namespace before that agency issued its root"
    ),
    "status-cross-agency": (
        "a status change in an agency's namespace is made by that agency's own signer key (or the governor), "
        "never by another agency's"
    ),
    "status-since-mismatch": "a status change's since is the block's time",
    "status-action-invalid": "a status change is a revoke (1), suspend (2) or reinstate (3)",
    "status-transition": (
        "a target is suspended only when unrestricted and reinstated only when suspended: suspensions and "
        "reinstatements alternate"
    ),
    "revoked-is-final": "a revoked target never changes again",
    "status-nonce": "a target's nonce goes up by one with every change",
    "status-actor-invalid": (
        "a status change is made by the governor or by a signer key of the root's agency that is valid then and "
        "never reported compromised"
    ),
    "status-after-agency-revocation": (
        "after its revocation an agency changes no status, and while suspended it reinstates nothing"
    ),
    "status-held-by-governor": "a suspension by the governor is lifted by the governor only",
    # the ledger itself
    "event-not-audited": "every event the registry emits is one the audit knows how to apply",
    "undecodable-log": "every log of the registry decodes with its ABI",
    # comparisons
    "view-mismatch": "the replayed state equals what the contract's views return",
    "views-unavailable": "the contract answers its views at the audited block, so the state can be compared",
    "bytecode-mismatch": "the deployed runtime code is what contracts/ compiles to at the pinned settings",
}


class EventRef(BaseModel):
    """Where an event sits on the ledger."""

    model_config = ConfigDict(frozen=True)

    name: str
    block_number: int
    block_time: int
    transaction_hash: str
    log_index: int

    @classmethod
    def of(cls, event: LedgerEvent) -> EventRef:
        return cls(
            name=event.name,
            block_number=event.block_number,
            block_time=time_of(event),
            transaction_hash=event.transaction_hash,
            log_index=event.log_index,
        )

    def __str__(self) -> str:
        return f"{self.name} at block {self.block_number} (tx {self.transaction_hash}, log {self.log_index})"


class Finding(BaseModel):
    """One thing wrong: the rule broken (`code`, `rule`), what happened (`message`), and where."""

    model_config = ConfigDict(frozen=True)

    kind: FindingKind
    code: str
    rule: str
    message: str
    event: EventRef | None = None
    subject: str | None = None

    @classmethod
    def make(
        cls,
        kind: FindingKind,
        code: str,
        message: str,
        event: LedgerEvent | EventRef | None = None,
        subject: str | None = None,
    ) -> Finding:
        ref = EventRef.of(event) if isinstance(event, LedgerEvent) else event
        return cls(kind=kind, code=code, rule=RULES[code], message=message, event=ref, subject=subject)

    def __str__(self) -> str:
        where = f" [{self.event}]" if self.event is not None else ""
        return f"{self.kind} {self.code}: {self.message}{where}"
