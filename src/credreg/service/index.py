"""An index of the registry's events in the service's database, following the chain a few blocks behind.

Events are read from the manifest's deployment block onwards, `confirmations` blocks behind the head, so
that what is indexed is final for the chain's confirmation depth. Each block range is written in one
transaction together with the cursor, so a crash never leaves half a range; `rebuild()` starts again from the
deployment block and gives exactly the same rows.

The index keeps the hash of the last block of every range and of every block with events. Before reading
on, it checks that the chain still has that last block (a rewind makes the head lower than it, a reorg gives
it another hash) and that each new range's first block names it as its parent. If not, the chain has
diverged from what was read: the index finds the common ancestor (the newest kept hash the chain still has),
deletes everything after it, records a `LedgerRewind` for the outbox to act on, and reads the chain again.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from web3.exceptions import BlockNotFound

from credreg.chain.client import with_retries
from credreg.chain.events import LedgerEvent, iter_events
from credreg.chain.logs import LogWindows
from credreg.registry import Registry
from credreg.service.db import (
    Database,
    IndexCursor,
    KnownBlock,
    LedgerEventRow,
    LedgerRewind,
    now_ms,
)

log = logging.getLogger(__name__)


def event_row(event: LedgerEvent, block_hash: str, block_time: int) -> LedgerEventRow:
    """The row of `event`, whose block's hash and time the index read (`LedgerEventRow.from_event`)."""
    return LedgerEventRow.from_event(replace(event, block_hash=block_hash, block_time=block_time))


class _AlreadyIndexed(Exception):
    """Another indexer advanced the cursor first; this range's rows are rolled back."""


@dataclass(frozen=True)
class EventQuery:
    """Filters for `EventIndex.events`; `after` is the (block, log index) position a page ended at."""

    names: Sequence[str] = ()
    agency_id: int | None = None
    root: str | None = None
    from_block: int | None = None
    to_block: int | None = None
    after: tuple[int, int] | None = None
    limit: int = 100


@dataclass(frozen=True)
class IndexPosition:
    """How far the index has read: its last block and that block's hash as read (None before anything is
    read), how many rewinds it has found so far, and whether it is re-syncing after one."""

    block: int
    block_hash: str | None
    rewinds: int
    diverged: bool


@dataclass(frozen=True)
class LedgerChange:
    """What one indexed event is about: its name, its agency (None for governor-wide events such as scopes)
    and, for a status change, the target hash."""

    name: str
    agency_id: int | None
    target: str | None


class EventIndex:
    """Follows one registry's events into the database."""

    def __init__(
        self, db: Database, registry: Registry, *, confirmations: int = 0, chunk: int = 5_000
    ) -> None:
        self.db = db
        self.registry = registry
        self.confirmations = confirmations
        self.chunk = chunk
        self._log_windows = LogWindows(max_blocks=chunk)  # learns the node's log-range limit once
        self.address = registry.address

    # --- position ------------------------------------------------------------------------------------

    def next_block(self) -> int:
        """The first block not indexed yet."""
        with self.db.session() as session:
            cursor = session.get(IndexCursor, self.address)
            return cursor.next_block if cursor is not None else self.registry.manifest.deployment_block

    def indexed_to(self) -> int:
        """The last block fully indexed (the deployment block minus one before anything is read)."""
        return self.next_block() - 1

    def position(self) -> IndexPosition:
        """The last block fully indexed, with its hash as read, and the rewinds found so far."""
        with self.db.session() as session:
            cursor = session.get(IndexCursor, self.address)
            block = (cursor.next_block if cursor is not None else self.registry.manifest.deployment_block) - 1
            kept = session.get(KnownBlock, (self.address, block))
            rewinds = session.scalar(
                select(func.count()).select_from(LedgerRewind).where(LedgerRewind.contract == self.address)
            )
        return IndexPosition(
            block,
            kept.block_hash if kept is not None else None,
            int(rewinds or 0),
            self.diverged() is not None,
        )

    def changes(self, after: int, upto: int, *, names: Sequence[str] = ()) -> list[LedgerChange]:
        """What the indexed events of blocks `after` + 1 to `upto` are about, oldest first (only `names`, if
        given)."""
        stmt = select(LedgerEventRow.name, LedgerEventRow.agency_id, LedgerEventRow.args).where(
            LedgerEventRow.block_number > after, LedgerEventRow.block_number <= upto
        )
        if names:
            stmt = stmt.where(LedgerEventRow.name.in_(list(names)))
        stmt = stmt.order_by(LedgerEventRow.block_number, LedgerEventRow.log_index)
        with self.db.session() as session:
            rows = session.execute(stmt).all()
        changes = []
        for name, agency_id, args in rows:
            target = json.loads(args).get("target") if name == "CredentialStatusChanged" else None
            changes.append(
                LedgerChange(
                    name,
                    int(agency_id) if agency_id is not None else None,
                    str(target).lower() if target is not None else None,
                )
            )
        return changes

    def safe_head(self) -> int:
        """The newest block deep enough to index."""
        return self.registry.head() - self.confirmations

    def _ensure_cursor(self) -> None:
        """Start at the deployment block; a cursor left by another registry's deployment is cleared."""
        with self.db.session() as session:
            if session.get(IndexCursor, self.address) is not None:
                return
            others = session.scalars(select(IndexCursor.contract)).all()
            if others:
                log.warning("the manifest names a new registry; clearing the index of %s", ", ".join(others))
                session.execute(delete(LedgerEventRow))
                session.execute(delete(KnownBlock))
                session.execute(delete(IndexCursor))
            session.add(
                IndexCursor(
                    contract=self.address,
                    chain_id=self.registry.manifest.chain_id,
                    next_block=self.registry.manifest.deployment_block,
                    updated_ms=now_ms(),
                )
            )

    # --- following the chain ------------------------------------------------------------------------

    def catch_up(self, max_ranges: int = 1_000) -> int:
        """Index every final block not indexed yet (at most `max_ranges` ranges); return the last indexed.

        A rewind or reorg of what was indexed is rolled back first (see the module docstring).
        """
        with contextlib.suppress(IntegrityError):  # another instance created it at the same moment
            self._ensure_cursor()
        self.check_chain()
        target = self.safe_head()
        for _ in range(max_ranges):
            start = self.next_block()
            if start > target:
                break
            end = min(target, start + self.chunk - 1)
            if not self._index_range(start, end):
                break  # the chain changed under the read: the next round starts from what is left
        indexed = self.indexed_to()
        if indexed >= self.safe_head():
            self._mark_resynced()
        return indexed

    # --- rewinds and reorgs ---------------------------------------------------------------------------

    def _block_hash(self, number: int) -> str | None:
        """The hash of block `number` on the chain now, or None if the chain has no such block."""
        w3 = self.registry.w3

        def fetch() -> str | None:
            try:
                block = w3.eth.get_block(number)
            except BlockNotFound:
                return None
            return "0x" + bytes(block["hash"]).hex()

        return with_retries(fetch, what="eth_getBlockByNumber", url=self.registry.url)

    def kept_hash(self, number: int) -> str | None:
        """The hash the service read for block `number`, if it kept one."""
        with self.db.session() as session:
            row = session.get(KnownBlock, (self.address, number))
            return row.block_hash if row is not None else None

    def _top_kept(self) -> tuple[int, str] | None:
        """The newest block whose hash the service kept (the index's, or one the outbox confirmed in)."""
        with self.db.session() as session:
            row = session.scalars(
                select(KnownBlock)
                .where(KnownBlock.contract == self.address)
                .order_by(KnownBlock.block_number.desc())
                .limit(1)
            ).first()
            return (int(row.block_number), row.block_hash) if row is not None else None

    def check_chain(self) -> LedgerRewind | None:
        """Roll back to the common ancestor if the newest block the service read is no longer on the chain
        (its hash chains it to every block before, so one block checks them all)."""
        top = self._top_kept()
        if top is None:
            return None  # nothing read yet, or an index written before hashes were kept: trusted
        head = self.registry.head()
        if head >= top[0] and self._block_hash(top[0]) == top[1]:
            return None
        return self._roll_back(top[0], head)

    def _common_ancestor(self, below: int) -> int:
        """The newest kept block at or below `below` whose hash the chain still has (hashes chain blocks to
        their parents, so every block before it is shared too); before the deployment block if none is."""
        with self.db.session() as session:
            kept = session.execute(
                select(KnownBlock.block_number, KnownBlock.block_hash)
                .where(KnownBlock.contract == self.address, KnownBlock.block_number <= below)
                .order_by(KnownBlock.block_number)
            ).all()
        # Shared blocks come first and lost ones after: a binary search needs O(log n) requests.
        low, high, found = 0, len(kept) - 1, self.registry.manifest.deployment_block - 1
        while low <= high:
            middle = (low + high) // 2
            number, block_hash = kept[middle]
            if self._block_hash(int(number)) == block_hash:
                found, low = int(number), middle + 1
            else:
                high = middle - 1
        return found

    def _roll_back(self, lost_to: int, head: int) -> LedgerRewind | None:
        ancestor = self._common_ancestor(min(lost_to, head))
        log.warning(
            "the chain diverged from what the service read: block %d is no longer on it (head %d); rolling "
            "back to block %d and reading again",
            lost_to,
            head,
            ancestor,
        )
        rewind = LedgerRewind(
            contract=self.address, ancestor=ancestor, lost_to=lost_to, head=head, detected_ms=now_ms()
        )
        next_block = self.next_block()
        with self.db.session() as session:
            if next_block > ancestor + 1:
                moved = session.execute(
                    update(IndexCursor)
                    .where(IndexCursor.contract == self.address, IndexCursor.next_block == next_block)
                    .values(next_block=ancestor + 1, updated_ms=now_ms())
                )
                if moved.rowcount != 1:  # type: ignore[attr-defined]
                    return None  # another instance moved the cursor first; it rolls back or reads on
            session.execute(delete(LedgerEventRow).where(LedgerEventRow.block_number > ancestor))
            session.execute(
                delete(KnownBlock).where(
                    KnownBlock.contract == self.address, KnownBlock.block_number > ancestor
                )
            )
            session.add(rewind)
        return rewind

    def _mark_resynced(self) -> None:
        with self.db.session() as session:
            session.execute(
                update(LedgerRewind)
                .where(LedgerRewind.contract == self.address, LedgerRewind.index_resynced_ms.is_(None))
                .values(index_resynced_ms=now_ms())
            )

    def diverged(self) -> LedgerRewind | None:
        """The oldest rewind the service has not re-synced after (index read again, outbox re-checked)."""
        with self.db.session() as session:
            return session.scalars(
                select(LedgerRewind)
                .where(
                    LedgerRewind.contract == self.address,
                    LedgerRewind.index_resynced_ms.is_(None) | LedgerRewind.outbox_rechecked_ms.is_(None),
                )
                .order_by(LedgerRewind.id)
            ).first()

    def _index_range(self, start: int, end: int) -> bool:
        """Read and store [start, end]; False (nothing stored) when the chain changed under the read."""
        kept = self.kept_hash(start - 1)
        end_hash = self._block_hash(end)
        if end_hash is None:
            return False
        if kept is not None:
            first = with_retries(
                lambda: self.registry.w3.eth.get_block(start),
                what="eth_getBlockByNumber",
                url=self.registry.url,
            )
            if "0x" + bytes(first["parentHash"]).hex() != kept:
                self.check_chain()
                return False
        w3 = self.registry.w3
        events = list(
            iter_events(w3, self.address, self.registry.events, start, end, windows=self._log_windows)
        )
        blocks: dict[int, tuple[str, int]] = {}
        for number in sorted({e.block_number for e in events}):
            block = with_retries(
                lambda n=number: w3.eth.get_block(n),  # type: ignore[misc]
                what="eth_getBlockByNumber",
                url=self.registry.url,
            )
            blocks[number] = ("0x" + bytes(block["hash"]).hex(), int(block["timestamp"]))
        # The end block is read again: if it changed, the logs may be of another fork.
        if self._block_hash(end) != end_hash:
            return False
        rows = [event_row(e, *blocks[e.block_number]) for e in events]
        hashes = {number: block_hash for number, (block_hash, _time) in blocks.items()}
        hashes[end] = end_hash
        # Blocks the outbox saw requests confirmed in must be the very blocks read now.
        with self.db.session() as session:
            known = session.execute(
                select(KnownBlock.block_number, KnownBlock.block_hash).where(
                    KnownBlock.contract == self.address,
                    KnownBlock.block_number >= start,
                    KnownBlock.block_number <= end,
                )
            ).all()
        for number, block_hash in known:
            if (hashes.get(int(number)) or self._block_hash(int(number))) != block_hash:
                self.check_chain()
                return False
        try:
            with self.db.session() as session:
                # Advancing the cursor only from where this reader started makes concurrent indexers
                # (several instances on one database) write each range once: the loser rolls back.
                moved = session.execute(
                    update(IndexCursor)
                    .where(IndexCursor.contract == self.address, IndexCursor.next_block == start)
                    .values(next_block=end + 1, updated_ms=now_ms())
                )
                if moved.rowcount != 1:  # type: ignore[attr-defined]
                    raise _AlreadyIndexed
                session.add_all(rows)
                for number, block_hash in sorted(hashes.items()):
                    session.merge(
                        KnownBlock(contract=self.address, block_number=number, block_hash=block_hash)
                    )
        except (_AlreadyIndexed, IntegrityError):
            log.info("blocks %d-%d were indexed by another instance", start, end)
        return True

    def rebuild(self) -> int:
        """Forget everything indexed and read the chain again from the deployment block."""
        with self.db.session() as session:
            session.execute(delete(LedgerEventRow))
            session.execute(delete(KnownBlock))
            session.execute(delete(IndexCursor))
        return self.catch_up()

    # --- reading -------------------------------------------------------------------------------------

    def events(self, query: EventQuery) -> list[LedgerEventRow]:
        stmt = select(LedgerEventRow)
        if query.names:
            stmt = stmt.where(LedgerEventRow.name.in_(list(query.names)))
        if query.agency_id is not None:
            stmt = stmt.where(LedgerEventRow.agency_id == query.agency_id)
        if query.root is not None:
            stmt = stmt.where(LedgerEventRow.root == query.root.lower())
        if query.from_block is not None:
            stmt = stmt.where(LedgerEventRow.block_number >= query.from_block)
        if query.to_block is not None:
            stmt = stmt.where(LedgerEventRow.block_number <= query.to_block)
        if query.after is not None:
            block, log_index = query.after
            stmt = stmt.where(
                (LedgerEventRow.block_number > block)
                | ((LedgerEventRow.block_number == block) & (LedgerEventRow.log_index > log_index))
            )
        stmt = stmt.order_by(LedgerEventRow.block_number, LedgerEventRow.log_index).limit(query.limit)
        with self.db.session() as session:
            return list(session.scalars(stmt).all())

    def count(self) -> int:
        with self.db.session() as session:
            return int(session.scalar(select(func.count()).select_from(LedgerEventRow)) or 0)

    def find(self, name: str, root: str) -> list[LedgerEventRow]:
        """Indexed events named `name` about `root`, oldest first."""
        return self.events(EventQuery(names=[name], root=root, limit=10_000))
