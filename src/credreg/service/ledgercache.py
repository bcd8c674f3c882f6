"""Verification's ledger reads answered from memory, as of the last block the event index read.

A credential's status (`credentialStatus`) changes only through an event that names its agency (an issuance,
a status change, the agency's suspension, reinstatement or revocation, a signer key's compromise) or when the
block time passes its expiry. So the answer read at one block is still the chain's answer at a later block
when no event of that agency came in between and the expiry is not passed. `LedgerCache` keeps such answers
for one block, the last the event index read (the *as-of block*), and every answer names that block:

- `refresh()` (a thread, every `index_poll_seconds`) moves the as-of block up to the index's last block,
  forgets the answers of every agency an event in between names (all of them, for an event that names no
  agency), and learns the target of every new status change.
- The certificates of one batch share their root's answer: the contract reads the statuses of exactly the
  nodes of a certificate's merkle path, so unless a status was ever set on a node below the root (the
  certificate itself, or a part of its batch) the certificate's answer is its root's. Otherwise the
  certificate's own answer is read and kept.
- What is not kept is read from the chain pinned to the as-of block, its hash checked in the same round trip.
  `in_memory()` gives the same answers without ever reading (a miss raises `NotInMemory`), for an event loop.
- A rewind the index found, its cursor moving back, or the index no longer holding the as-of block's hash
  (rebuilt, or rolled back past it) drops everything.
- The cache steps aside, and reads go to the chain at its head as if there were no cache, while the index is
  more than `max_lag` blocks behind the head (after the confirmations), re-syncing after a rewind, or not yet
  started; when the last refresh is older than `stale_after` seconds; and when the chain no longer has the
  block the index read.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from credreg.chain.eip712 import Domain
from credreg.chain.states import Verdict
from credreg.documents.merkle import combine
from credreg.errors import ChainError, ChainUnreachable
from credreg.hashes import hash32, hash_bytes
from credreg.registry import BlockHead, CredentialState, LedgerReads, Registry, Snapshot, StatusQuery
from credreg.service.index import EventIndex

log = logging.getLogger(__name__)

#: Answers kept per agency; past this many, that agency's start afresh (memory stays bounded).
MAX_ANSWERS = 200_000
# The contract decides these before it looks at the time: they never turn into "expired" as time passes.
_TIMELESS = frozenset(Verdict) - {
    Verdict.VALID,
    Verdict.ROOT_SUSPENDED,
    Verdict.NODE_SUSPENDED,
    Verdict.LEAF_SUSPENDED,
}
STATUS_CHANGED = "CredentialStatusChanged"

# (root,) for an answer a whole batch shares; (root, leaf, *proof) for a certificate's own.
_Key = tuple[str, ...]


@dataclass(frozen=True)
class _View:
    """The answers at one block. Agencies' answer tables are shared with the next view when no event of
    theirs came in between; `touched` (agency -> every target a status was ever set on) only grows."""

    as_of: BlockHead
    answers: dict[int, dict[_Key, CredentialState]]
    touched: dict[int, set[bytes]]
    refreshed: float  # time.monotonic() of the refresh that made or confirmed it


class LedgerCache:
    """`Registry.statuses` and `Registry.facts_at` for verification, answered as of the index's last block."""

    def __init__(
        self,
        registry: Registry,
        index: EventIndex,
        *,
        confirmations: int = 0,
        max_lag: int = 5,
        stale_after: float = 5.0,
    ) -> None:
        self.registry = registry
        self.index = index
        self.confirmations = confirmations
        self.max_lag = max_lag
        self.stale_after = stale_after
        self._view: _View | None = None
        self._rewinds = -1
        self._refreshing = threading.Lock()

    @property
    def address(self) -> str:
        return self.registry.address

    @property
    def domain(self) -> Domain:
        return self.registry.domain

    def as_of(self) -> BlockHead | None:
        """The block answers are given as of, or None while the cache steps aside."""
        view = self._current()
        return view.as_of if view is not None else None

    # --- answering ----------------------------------------------------------------------------------

    def statuses(
        self, queries: Sequence[StatusQuery], *, at: BlockHead | None = None
    ) -> tuple[BlockHead, list[CredentialState]]:
        """As `Registry.statuses`; unpinned (or pinned to it), the answers are of the as-of block."""
        view = self._current()
        if view is None or (at is not None and at != view.as_of):
            return self.registry.statuses(queries, at=at)
        keyed, states = self._lookup(view, queries)
        missing = {ak: _query(*ak) for ak, state in zip(keyed, states, strict=True) if state is None}
        if not missing:
            return view.as_of, [s for s in states if s is not None]
        try:
            _, read = self.registry.statuses(list(missing.values()), at=view.as_of)
        except ChainUnreachable:
            raise
        except ChainError as exc:  # the as-of block was replaced: the index will find out and roll back
            log.warning("ledger cache: stepping aside until the index has read the chain again: %s", exc)
            if self._view is view:
                self._view = None
            return self.registry.statuses(queries)
        found = dict(zip(missing, read, strict=True))
        for (agency, key), state in found.items():
            answers = view.answers.setdefault(agency, {})
            if len(answers) >= MAX_ANSWERS:
                answers.clear()
            answers[key] = state
        return view.as_of, [
            state if state is not None else found[ak] for state, ak in zip(states, keyed, strict=True)
        ]

    def in_memory(self) -> LedgerReads | None:
        """The same answers without ever reading the chain: what is not in memory raises `NotInMemory` (to
        answer on an event loop, which must not wait for the node). None while the cache steps aside."""
        view = self._current()
        return _MemoryReads(self, view) if view is not None else None

    def _lookup(
        self, view: _View, queries: Sequence[StatusQuery]
    ) -> tuple[list[tuple[int, _Key]], list[CredentialState | None]]:
        """Each query's key, and its answer in memory (None when it must be read)."""
        now = view.as_of.timestamp
        keyed = [(query[0], self._key(view, query)) for query in queries]
        states: list[CredentialState | None] = []
        for agency, key in keyed:
            known = view.answers.get(agency, {}).get(key)
            states.append(known if known is not None and not _expired(known, now) else None)
        return keyed, states

    def facts_at(
        self,
        head: BlockHead,
        *,
        agencies: Iterable[int] = (),
        scopes: Iterable[str] = (),
        signers: Iterable[str] = (),
        accreditations: Iterable[tuple[int, str]] = (),
    ) -> Snapshot:
        """As `Registry.facts_at` (which keeps what it read for the last few blocks)."""
        return self.registry.facts_at(
            head, agencies=agencies, scopes=scopes, signers=signers, accreditations=accreditations
        )

    def _current(self) -> _View | None:
        view = self._view
        if view is None or time.monotonic() - view.refreshed > self.stale_after:
            return None
        return view

    @staticmethod
    def _key(view: _View, query: StatusQuery) -> _Key:
        """The batch's key when the certificate's answer is its root's (see the module docstring)."""
        agency, root, leaf, proof = query
        root_hex, leaf_hex = hash32(root), hash32(leaf)
        if not proof and leaf_hex == root_hex:
            return (root_hex,)
        steps = [hash_bytes(p) for p in proof]
        touched = view.touched.get(agency, ())
        node, touched_below = hash_bytes(leaf_hex), False
        for step in steps:
            touched_below = touched_below or node in touched
            node = combine(node, step)
        if not touched_below and "0x" + node.hex() == root_hex:
            return (root_hex,)
        return (root_hex, leaf_hex, *("0x" + s.hex() for s in steps))

    # --- following the index ------------------------------------------------------------------------

    def refresh(self) -> BlockHead | None:
        """Move up to the index's last block (see the module docstring); the new as-of block, or None while
        the cache steps aside."""
        with self._refreshing:
            try:
                self._view = self._next(self._view)
            except ChainError as exc:
                log.warning("ledger cache: stepping aside: %s", exc)
                self._view = None
            return self._view.as_of if self._view is not None else None

    def _next(self, old: _View | None) -> _View | None:
        position = self.index.position()
        if position.block_hash is None or position.diverged:
            return None
        head = self.registry.latest_head()
        if head.number - self.confirmations - position.block > self.max_lag:
            return None
        block = head if head.number == position.block else self.registry.block_head(position.block)
        if block.hash != position.block_hash:
            return None  # the chain no longer has the block the index read: the index will roll back
        if (
            old is not None
            and position.rewinds == self._rewinds
            and position.block >= old.as_of.number
            and (block == old.as_of or self.index.kept_hash(old.as_of.number) == old.as_of.hash)
        ):
            if block == old.as_of:
                return replace(old, refreshed=time.monotonic())
            answers, touched = dict(old.answers), old.touched
            for change in self.index.changes(old.as_of.number, position.block):
                if change.agency_id is None:
                    answers = {}
                else:
                    answers.pop(change.agency_id, None)
                    if change.target is not None:
                        touched.setdefault(change.agency_id, set()).add(hash_bytes(change.target))
        else:
            answers, touched = {}, {}
            for change in self.index.changes(-1, position.block, names=(STATUS_CHANGED,)):
                if change.agency_id is not None and change.target is not None:
                    touched.setdefault(change.agency_id, set()).add(hash_bytes(change.target))
        again = self.index.position()
        if again.rewinds != position.rewinds or again.block < position.block:
            return None  # the index rolled back under the read: the next round starts afresh
        self._rewinds = position.rewinds
        return _View(block, answers, touched, time.monotonic())


class NotInMemory(LookupError):
    """An answer the ledger cache would have to read from the chain (see `LedgerCache.in_memory`)."""


class _MemoryReads:
    """A ledger cache's answers at one as-of block, from memory only."""

    def __init__(self, cache: LedgerCache, view: _View) -> None:
        self._cache = cache
        self._view = view

    @property
    def address(self) -> str:
        return self._cache.address

    @property
    def domain(self) -> Domain:
        return self._cache.domain

    def statuses(
        self, queries: Sequence[StatusQuery], *, at: BlockHead | None = None
    ) -> tuple[BlockHead, list[CredentialState]]:
        view = self._view
        if at is not None and at != view.as_of:
            raise NotInMemory(f"answers are kept for block {view.as_of.number}, not {at.number}")
        _, states = self._cache._lookup(view, queries)
        known = [state for state in states if state is not None]
        if len(known) < len(states):
            raise NotInMemory(f"{len(states) - len(known)} of {len(states)} answers are not in memory")
        return view.as_of, known

    def facts_at(
        self,
        head: BlockHead,
        *,
        agencies: Iterable[int] = (),
        scopes: Iterable[str] = (),
        signers: Iterable[str] = (),
        accreditations: Iterable[tuple[int, str]] = (),
    ) -> Snapshot:
        try:
            return self._cache.registry.facts_at(
                head,
                agencies=agencies,
                scopes=scopes,
                signers=signers,
                accreditations=accreditations,
                known_only=True,
            )
        except LookupError as exc:
            raise NotInMemory(str(exc)) from exc


def _query(agency: int, key: _Key) -> StatusQuery:
    """The chain query whose answer `key` stands for: the root's own, or the certificate's."""
    if len(key) == 1:
        return (agency, key[0], key[0], [])
    return (agency, key[0], key[1], list(key[2:]))


def _expired(state: CredentialState, now: int) -> bool:
    """The answer may have turned into "expired" by block time `now`."""
    return state.verdict not in _TIMELESS and 0 < state.record.valid_until <= now
