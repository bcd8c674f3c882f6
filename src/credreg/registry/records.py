"""What the registry's views answer, as Python values (one class per contract struct, the contract's names)."""

from __future__ import annotations

from dataclasses import dataclass

from credreg.chain.codec import Hash32
from credreg.chain.states import AgencyState, Status, Verdict


@dataclass(frozen=True)
class ScopeInfo:
    scope_id: Hash32
    occupation_code: str
    level: int
    index: int
    title: str
    retired_at: int = 0


@dataclass(frozen=True)
class AgencyInfo:
    agency_id: int
    name: str
    registration_code: str
    admin: str
    state: AgencyState
    reason: int
    cutoff: int
    document_store: str


@dataclass(frozen=True)
class SignerInfo:
    address: str
    agency_id: int
    index: int
    valid_from: int
    valid_until: int
    compromised_since: int


@dataclass(frozen=True)
class IssuerKeyInfo:
    """An Ed25519 key an agency signs verifiable credentials with (`IssuerKey`)."""

    public_key: Hash32
    agency_id: int
    valid_from: int
    valid_until: int
    compromised_since: int


@dataclass(frozen=True)
class AccreditationInfo:
    agency_id: int
    scope_id: Hash32
    scope_index: int
    valid_from: int
    valid_until: int


@dataclass(frozen=True)
class CredentialRecord:
    """An agency's root as `record(agencyId, root)` gives it; `issued_at == 0` means not issued."""

    root: Hash32
    agency_id: int
    scope_id: Hash32
    signer: str
    issued_at: int
    valid_until: int

    @property
    def issued(self) -> bool:
        return self.issued_at != 0


@dataclass(frozen=True)
class TargetStatus:
    """A hash's status in its agency's namespace (`statusOf(agencyId, target)`)."""

    agency_id: int
    target: Hash32
    status: Status
    reason: int
    nonce: int
    since: int
    by_governor: bool


@dataclass(frozen=True)
class BlockHead:
    """A block as a verifier pins its reads to it."""

    number: int
    hash: str
    timestamp: int


@dataclass(frozen=True)
class CredentialState:
    """The contract's answer for one credential (agency, root, leaf, proof)."""

    verdict: Verdict
    target: Hash32
    reason: int
    since: int
    record: CredentialRecord


@dataclass(frozen=True)
class Snapshot:
    """Registry facts read together, with their block's time (see `Registry.facts_at`)."""

    block_time: int
    agencies: dict[int, AgencyInfo]
    scopes: dict[str, ScopeInfo]
    signers: dict[str, SignerInfo]
    accreditations: dict[tuple[int, str], AccreditationInfo]
