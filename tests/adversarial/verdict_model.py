"""A reference model of the registry, in plain Python, written from the rules the contract states.

It keeps what the registry keeps (agencies, signer keys, and per agency its records and the statuses of the
hashes in its namespace), says what each action should do (succeed, or revert with which custom error), and
answers the views: `credentialStatus`, and a store's `isIssued` / `isRevoked`. It shares no code with the
contract's Python readers or with the audit's replay (`credreg.audit.state`), so the three can be compared.
Hashes are 32-byte `bytes`; only the enumerations' numbers come from `credreg.chain.states`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from eth_utils.crypto import keccak

from credreg.chain.states import AgencyState, Status, Verdict

REVOKE, SUSPEND, REINSTATE = 1, 2, 3
ACTIONS = (REVOKE, SUSPEND, REINSTATE)
ZERO = bytes(32)

# The custom errors a step may revert with, by the contract's names.
ALREADY_ISSUED = "CredentialRegistryAlreadyIssued"
AGENCY_NOT_ACTIVE = "CredentialRegistryAgencyNotActive"
HELD_BY_GOVERNOR = "CredentialRegistryStatusHeldByGovernor"
INVALID_AGENCY_STATE = "AccreditationRegistryInvalidAgencyState"
INVALID_COMPROMISE_TIME = "AccreditationRegistryInvalidCompromiseTime"
INVALID_CUTOFF = "AccreditationRegistryInvalidCutoff"
INVALID_PROOF = "CredentialRegistryInvalidProof"
INVALID_TRANSITION = "CredentialRegistryInvalidTransition"
NOT_ISSUED = "CredentialRegistryNotIssued"
NOT_OWNER = "OwnableUnauthorizedAccount"
SIGNER_COMPROMISED = "CredentialRegistrySignerCompromised"
UNAUTHORIZED = "AccreditationRegistryUnauthorized"
UNKNOWN_SIGNER = "CredentialRegistryUnknownSigner"


def pair(a: bytes, b: bytes) -> bytes:
    """OpenZeppelin's commutative keccak256 of two nodes (written out here, not imported)."""
    return keccak(a + b if a < b else b + a)


def fold_path(leaf: bytes, proof: Sequence[bytes]) -> list[bytes]:
    """The hashes from `leaf` up through every sibling of `proof`: leaf first, the computed root last."""
    path = [leaf]
    for sibling in proof:
        path.append(pair(path[-1], sibling))
    return path


@dataclass
class AgencyModel:
    state: AgencyState = AgencyState.ACTIVE
    reason: int = 0
    cutoff: int = 0


@dataclass
class SignerModel:
    agency_id: int
    compromised_since: int = 0


@dataclass(frozen=True)
class RecordModel:
    issued_at: int
    valid_until: int
    signer: str


@dataclass
class MarkModel:
    """A hash's status in one agency's namespace."""

    status: Status = Status.NONE
    reason: int = 0
    nonce: int = 0
    since: int = 0
    by_governor: bool = False


@dataclass(frozen=True)
class VerdictModel:
    verdict: Verdict
    target: bytes
    reason: int
    since: int


@dataclass
class RegistryModel:
    agencies: dict[int, AgencyModel] = field(default_factory=dict)
    signers: dict[str, SignerModel] = field(default_factory=dict)
    admins: dict[str, int] = field(default_factory=dict)
    records: dict[tuple[int, bytes], RecordModel] = field(default_factory=dict)
    marks: dict[tuple[int, bytes], MarkModel] = field(default_factory=dict)

    def mark(self, agency_id: int, target: bytes) -> MarkModel:
        return self.marks.get((agency_id, target), MarkModel())

    # --- what an action should do: None (it succeeds) or the name of the error it reverts with -------------

    def issue_error(self, signer: str, agency_id: int, root: bytes) -> str | None:
        """An issuance signed by `signer` (a key of `agency_id`), with an open accreditation and a future expiry."""
        key = self.signers[signer]
        assert key.agency_id == agency_id
        if key.compromised_since != 0:
            return SIGNER_COMPROMISED
        if self.agencies[agency_id].state is not AgencyState.ACTIVE:
            return AGENCY_NOT_ACTIVE
        if (agency_id, root) in self.records:
            return ALREADY_ISSUED
        return None

    def agency_status_error(
        self, signer: str, agency_id: int, root: bytes, target: bytes, proof: Sequence[bytes], action: int
    ) -> str | None:
        """A status change in `agency_id`'s namespace signed by `signer` (of whichever agency)."""
        key = self.signers.get(signer)
        if key is None or key.agency_id != agency_id:
            return UNKNOWN_SIGNER
        if key.compromised_since != 0:
            return SIGNER_COMPROMISED
        state = self.agencies[agency_id].state
        if state is AgencyState.REVOKED or (state is AgencyState.SUSPENDED and action == REINSTATE):
            return AGENCY_NOT_ACTIVE
        return self._change_error(agency_id, root, target, proof, action, by_governor=False)

    def governor_status_error(
        self, agency_id: int, root: bytes, target: bytes, proof: Sequence[bytes], action: int
    ) -> str | None:
        return self._change_error(agency_id, root, target, proof, action, by_governor=True)

    def _change_error(
        self,
        agency_id: int,
        root: bytes,
        target: bytes,
        proof: Sequence[bytes],
        action: int,
        *,
        by_governor: bool,
    ) -> str | None:
        if (agency_id, root) not in self.records:
            return NOT_ISSUED
        if fold_path(target, proof)[-1] != root:
            return INVALID_PROOF
        mark = self.mark(agency_id, target)
        if not by_governor and action == REINSTATE and mark.by_governor:
            return HELD_BY_GOVERNOR
        allowed = {
            REVOKE: mark.status is not Status.REVOKED,
            SUSPEND: mark.status is Status.NONE,
            REINSTATE: mark.status is Status.SUSPENDED,
        }[action]
        return None if allowed else INVALID_TRANSITION

    def agency_change_error(self, agency_id: int, change: str, cutoff: int = 0, now: int = 0) -> str | None:
        """The governor suspends, reinstates or revokes (with `cutoff`, the block's time at least `now`) an agency."""
        state = self.agencies[agency_id].state
        if change == "suspend":
            return None if state is AgencyState.ACTIVE else INVALID_AGENCY_STATE
        if change == "reinstate":
            return None if state is AgencyState.SUSPENDED else INVALID_AGENCY_STATE
        if state not in (AgencyState.ACTIVE, AgencyState.SUSPENDED):
            return INVALID_AGENCY_STATE
        return None if cutoff <= now else INVALID_CUTOFF

    def compromise_error(self, reporter: str, signer: str, since: int, now: int) -> str | None:
        """`reporter` (an address) reports `signer` compromised since `since`; the block's time is at least `now`."""
        key = self.signers[signer]
        if reporter != "governor" and self.admins.get(reporter) != key.agency_id:
            return UNAUTHORIZED
        current = key.compromised_since
        if since == 0 or since > now or (current != 0 and since >= current):
            return INVALID_COMPROMISE_TIME
        return None

    # --- applying what succeeded ------------------------------------------------------------------------------

    def apply_issue(self, agency_id: int, root: bytes, signer: str, issued_at: int, valid_until: int) -> None:
        self.records[(agency_id, root)] = RecordModel(issued_at, valid_until, signer)

    def apply_status(
        self, agency_id: int, target: bytes, action: int, reason: int, since: int, *, by_governor: bool
    ) -> None:
        mark = self.mark(agency_id, target)
        status = {REVOKE: Status.REVOKED, SUSPEND: Status.SUSPENDED, REINSTATE: Status.NONE}[action]
        self.marks[(agency_id, target)] = MarkModel(status, reason, mark.nonce + 1, since, by_governor)

    def apply_agency_change(self, agency_id: int, change: str, reason: int = 0, cutoff: int = 0) -> None:
        agency = self.agencies[agency_id]
        if change == "suspend":
            agency.state, agency.reason = AgencyState.SUSPENDED, reason
        elif change == "reinstate":
            agency.state = AgencyState.ACTIVE
        else:
            agency.state, agency.reason, agency.cutoff = AgencyState.REVOKED, reason, cutoff

    def apply_compromise(self, signer: str, since: int) -> None:
        self.signers[signer].compromised_since = since

    # --- the views ----------------------------------------------------------------------------------------------

    def verdict(
        self, agency_id: int, root: bytes, leaf: bytes, proof: Sequence[bytes], now: int
    ) -> VerdictModel:
        """`credentialStatus(agencyId, root, leaf, proof)` at block time `now`."""
        record = self.records.get((agency_id, root))
        if record is None:
            return VerdictModel(Verdict.NOT_ISSUED, root, 0, 0)
        path = fold_path(leaf, proof)
        if path[-1] != root:
            return VerdictModel(Verdict.INVALID_PROOF, leaf, 0, 0)
        revoked = self._highest(agency_id, path, Status.REVOKED, Verdict.ROOT_REVOKED)
        if revoked is not None:
            return revoked
        void = self._void(agency_id, record)
        if void is not None:
            return VerdictModel(void[0], root, void[1], void[2])
        if record.valid_until != 0 and record.valid_until <= now:
            return VerdictModel(Verdict.EXPIRED, root, 0, record.valid_until)
        suspended = self._highest(agency_id, path, Status.SUSPENDED, Verdict.ROOT_SUSPENDED)
        if suspended is not None:
            return suspended
        return VerdictModel(Verdict.VALID, ZERO, 0, 0)

    def _highest(
        self, agency_id: int, path: list[bytes], wanted: Status, base: Verdict
    ) -> VerdictModel | None:
        """The hash nearest the root on `path` with status `wanted`: root, then nodes, then the leaf."""
        for depth, target in enumerate(reversed(path)):
            mark = self.mark(agency_id, target)
            if mark.status is wanted:
                level = 0 if depth == 0 else (2 if depth == len(path) - 1 else 1)
                return VerdictModel(Verdict(base + level), target, mark.reason, mark.since)
        return None

    def _void(self, agency_id: int, record: RecordModel) -> tuple[Verdict, int, int] | None:
        """Agency revoked with a cut-off at or before the issuance, or its signer compromised since then or before."""
        agency = self.agencies[agency_id]
        if agency.state is AgencyState.REVOKED and agency.cutoff <= record.issued_at:
            return (Verdict.AGENCY_REVOKED, agency.reason, agency.cutoff)
        since = self.signers[record.signer].compromised_since
        if since != 0 and since <= record.issued_at:
            return (Verdict.SIGNER_COMPROMISED, 0, since)
        return None

    def is_issued(self, agency_id: int, root: bytes) -> bool:
        return (agency_id, root) in self.records

    def is_revoked(self, agency_id: int, target: bytes) -> bool:
        """OpenAttestation's view in the agency's namespace: any status, or a root voided with its agency or key."""
        if self.mark(agency_id, target).status is not Status.NONE:
            return True
        record = self.records.get((agency_id, target))
        return record is not None and self._void(agency_id, record) is not None
