"""The VC forms against the real registry: a `LedgerResolver` that reads `Registry`, and status lists
rebuilt from the registry's events.

Which batches have positions. The positions rule (`credreg.vc.statuslist`) needs each batch's leaves; the
ledger records only roots. A batch whose leaves the publisher was never given (a root recorded straight on
the ledger, or relayed without its leaves) therefore has **no positions**: it is left out of the count, so
later batches' positions do not depend on it, its certificates cannot be exported with a
``credentialStatus`` entry, and its status events change no bit. `lists_from_events` reports such
batches as `LedgerLists.unknown`, so a publisher or an audit can say so. The leaves given for a batch are
checked against its root (`Batch` refuses leaves that make another root).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import httpx

from credreg.chain.states import Verdict
from credreg.documents.merkle import MerkleTree
from credreg.errors import ChainUnreachable, ContractRevert
from credreg.hashes import hash32
from credreg.registry import Registry
from credreg.vc.statuslist import Batch, StatusEvent, StatusLists, build_status_lists
from credreg.vc.verify import IssuerKeyRecord, LedgerRecord

__all__ = [
    "DEV_KEY_FILE",
    "STATUS_EVENTS",
    "LedgerLists",
    "RegistryResolver",
    "fetch_status_list",
    "lists_from_events",
]

DEV_KEY_FILE: Final = "dev-status-list-key.pem"
"""On the dev chain only: the operator's generated status list key, under the data directory."""
STATUS_EVENTS: Final = ("CredentialIssued", "CredentialStatusChanged")
"""The events the lists are rebuilt from."""

LeavesOf = Callable[[int, str], Sequence[str] | bytes | MerkleTree | None]
"""(agency id, root) -> the batch's leaves (hex, packed 32 bytes each, or their tree), or None when they are
not known."""


@dataclass(frozen=True)
class LedgerLists:
    """The rebuilt lists, and the batches (agency id, root) that have no positions because their leaves
    are not known."""

    lists: StatusLists
    batches: tuple[Batch, ...]
    unknown: tuple[tuple[int, str], ...]

    def first_position(self, agency_id: int, root: str) -> int | None:
        """Where the batch's positions start, None if it has none."""
        offset = 0
        for batch in self.batches:
            if batch.agency_id == agency_id and batch.root.lower() == root.lower():
                return offset
            offset += len(batch.tree)
        return None


def lists_from_events(
    events: Iterable[tuple[str, int, int, Mapping[str, Any]]], leaves_of: LeavesOf
) -> LedgerLists:
    """Rebuild both lists from ``(event name, block, log index, args)`` of the registry's
    ``CredentialIssued`` and ``CredentialStatusChanged`` events (other names are ignored), oldest first or
    not, and each batch's leaves from `leaves_of`."""
    batches: list[Batch] = []
    unknown: list[tuple[int, str]] = []
    changes: list[StatusEvent] = []
    for name, block, log_index, args in events:
        if name not in STATUS_EVENTS:
            continue
        agency_id, root = int(args["agencyId"]), hash32(args["root"])
        if name == "CredentialIssued":
            leaves = leaves_of(agency_id, root)
            if leaves:
                batches.append(Batch(agency_id, root, leaves, block, log_index))
            else:
                unknown.append((agency_id, root))
        elif name == "CredentialStatusChanged":
            changes.append(
                StatusEvent(agency_id, root, hash32(args["target"]), int(args["action"]), block, log_index)
            )
    known = {(b.agency_id, b.root.lower()) for b in batches}
    relevant = [c for c in changes if (c.agency_id, c.root.lower()) in known]
    ordered = tuple(sorted(batches, key=lambda b: (b.block, b.log_index)))
    return LedgerLists(build_status_lists(ordered, relevant), ordered, tuple(unknown))


def fetch_status_list(url: str, *, timeout: float = 10.0) -> Mapping[str, Any]:
    """GET a published status list credential; `ChainUnreachable` when it cannot be had."""
    try:
        reply = httpx.get(url, timeout=timeout, follow_redirects=False)
        reply.raise_for_status()
        body = reply.json()
    except (httpx.HTTPError, ValueError) as error:
        raise ChainUnreachable(f"the status list at {url} could not be fetched: {error}") from None
    if not isinstance(body, Mapping):
        raise ChainUnreachable(f"the status list at {url} is not a JSON object")
    return body


class RegistryResolver:
    """`LedgerResolver` over a `Registry`: the ledger's views, the latest block's time, and status lists
    from `status_list` (default: fetched over HTTP), trusted when signed by one of `status_list_signers`
    (``0x`` bytes32 public keys)."""

    def __init__(
        self,
        registry: Registry,
        status_list_signers: Iterable[str],
        *,
        status_list: Callable[[str], Mapping[str, Any]] = fetch_status_list,
    ) -> None:
        self._registry = registry
        self._signers = {s.lower() for s in status_list_signers}
        self._status_list = status_list

    @property
    def chain_id(self) -> int:
        return int(self._registry.domain.chain_id)

    @property
    def registry(self) -> str:
        return str(self._registry.address)

    def now(self) -> int:
        return self._registry.block_time()

    def credential(self, agency_id: int, root: str, leaf: str, proof: Sequence[str]) -> LedgerRecord:
        state = self._registry.credential_status(agency_id, root, leaf, list(proof))
        record = state.record
        if state.verdict is Verdict.NOT_ISSUED:
            return LedgerRecord(state.verdict, 0, "0x" + "00" * 32, 0, 0)
        return LedgerRecord(
            state.verdict, record.agency_id, str(record.scope_id), record.issued_at, record.valid_until
        )

    def issuer_key(self, public_key: str) -> IssuerKeyRecord | None:
        try:
            key = self._registry.issuer_key(public_key)
        except ContractRevert as error:
            if error.name == "AccreditationRegistryUnknownIssuerKey":
                return None
            raise
        if key.agency_id == 0:  # the view answers zeros for a key never registered
            return None
        return IssuerKeyRecord(key.agency_id, key.valid_from, key.valid_until, key.compromised_since)

    def accreditation(self, agency_id: int, scope_id: str) -> tuple[int, int] | None:
        info = self._registry.accreditation(agency_id, scope_id)
        if info.valid_from == 0 and info.valid_until == 0:
            return None
        return info.valid_from, info.valid_until

    def status_list(self, url: str) -> Mapping[str, Any]:
        return self._status_list(url)

    def is_status_list_signer(self, public_key: str) -> bool:
        return public_key.lower() in self._signers
