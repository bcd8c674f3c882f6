"""The outbox's rows in SQL: what a request is (its key and id), its states, and every query on them.

A request is the same request when it has the same kind, domain, signed fields and signer (`request_key`),
whatever bytes its signature has; its id follows from that key, and the database keeps the key unique, so
two instances accepting the same request at once end with one row. A row is worked on under a short lease
held by one instance (`claim`); `save` writes only while this instance holds it.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from typing import Any, Literal

from eth_utils.crypto import keccak
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from credreg.registry import SignedIssue, SignedStatusChange
from credreg.service.db import BatchLeaf, Database, LedgerRewind, OutboxRow, RewindRecheck, now_ms

log = logging.getLogger("credreg.service.outbox")

Kind = Literal["issue", "status-change"]
ISSUE: Kind = "issue"
STATUS_CHANGE: Kind = "status-change"

PENDING = "pending"
SUBMITTED = "submitted"
CONFIRMED = "confirmed"
FAILED = "failed"
OPEN_STATES = (PENDING, SUBMITTED)

LEASE_MS = 60_000

__all__ = [
    "CONFIRMED",
    "FAILED",
    "ISSUE",
    "LEASE_MS",
    "OPEN_STATES",
    "PENDING",
    "STATUS_CHANGE",
    "SUBMITTED",
    "Kind",
    "OutboxStore",
    "id_of",
    "request_key",
]


def request_key(kind: Kind, signed: SignedIssue | SignedStatusChange, signer: str) -> str:
    """Same kind, domain, signed fields and signer: the same request, whatever bytes the signature has."""
    body: dict[str, Any] = {
        "kind": kind,
        "chain_id": signed.chain_id,
        "registry": signed.registry.lower(),
        "request": signed.request.model_dump(mode="json"),
        "signer": signer.lower(),
    }
    if isinstance(signed, SignedStatusChange):
        body["proof"] = list(signed.proof)
    return "0x" + keccak(text=json.dumps(body, sort_keys=True, separators=(",", ":"))).hex()


def id_of(key: str) -> str:
    return str(uuid.UUID(bytes=bytes.fromhex(key[2:34])))


class OutboxStore:
    """The outbox's table (and the batch leaves kept with it), as this instance (`worker_id`) sees it."""

    def __init__(self, db: Database, worker_id: str) -> None:
        self.db = db
        self.worker_id = worker_id

    # --- one request ---------------------------------------------------------------------------------

    def get(self, request_id: str) -> OutboxRow | None:
        with self.db.session() as session:
            return session.get(OutboxRow, request_id)

    def by_key(self, key: str) -> OutboxRow | None:
        with self.db.session() as session:
            return session.scalars(select(OutboxRow).where(OutboxRow.request_key == key)).first()

    def issue_of_root(self, agency_id: int, root: str) -> OutboxRow | None:
        """The agency's issuance of `root` that has not failed; another agency's (a squat) does not count."""
        with self.db.session() as session:
            return session.scalars(
                select(OutboxRow).where(
                    OutboxRow.kind == ISSUE,
                    OutboxRow.agency_id == agency_id,
                    OutboxRow.root == root,
                    OutboxRow.status != FAILED,
                )
            ).first()

    def open_change_of(self, agency_id: int, target: str, nonce: int) -> OutboxRow | None:
        """An open status change of the agency's `target` at `nonce`."""
        with self.db.session() as session:
            return session.scalars(
                select(OutboxRow).where(
                    OutboxRow.kind == STATUS_CHANGE,
                    OutboxRow.agency_id == agency_id,
                    OutboxRow.target == target,
                    OutboxRow.nonce == nonce,
                    OutboxRow.status.in_(OPEN_STATES),
                )
            ).first()

    @staticmethod
    def new_row(
        key: str,
        kind: Kind,
        signed: SignedIssue | SignedStatusChange,
        signer: str,
        agency_id: int,
        *,
        root: str,
        target: str | None,
        action: int | None,
        nonce: int | None,
        gas: int,
    ) -> OutboxRow:
        now = now_ms()
        return OutboxRow(
            id=id_of(key),
            request_key=key,
            kind=kind,
            status=PENDING,
            root=root,
            target=target,
            action=action,
            nonce=nonce,
            signer=signer,
            agency_id=agency_id,
            payload=signed.model_dump_json(),
            attempts=0,
            next_attempt_ms=0,
            owner=None,
            lease_until_ms=0,
            created_ms=now,
            updated_ms=now,
            gas_estimate=gas,
        )

    def insert(self, row: OutboxRow, leaves: Sequence[BatchLeaf]) -> tuple[OutboxRow, bool]:
        """Write `row` and its batch's leaves; returns the row and whether it is new."""
        try:
            with self.db.session() as session:
                session.add(row)
                session.flush()  # the request row first: leaves are only kept for an accepted root
                session.add_all(leaves)
        except IntegrityError:
            # The same request arrived twice at once; the first one's row is the answer for both.
            existing = self.by_key(row.request_key)
            if existing is None:
                raise
            return existing, False
        return row, True

    def reopen_failed(self, row: OutboxRow, gas: int) -> None:
        """Make a failed request pending again, counted against today's quota from now at estimate `gas`."""
        with self.db.session() as session:
            session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == row.id, OutboxRow.status == FAILED)
                .values(
                    status=PENDING,
                    attempts=0,
                    next_attempt_ms=0,
                    tx_hash=None,
                    block_number=None,
                    block_hash=None,
                    error_name=None,
                    error_message=None,
                    error_args=None,
                    last_problem=f"re-opened after failing: {row.error_message}"[:2000],
                    finished_ms=None,
                    updated_ms=now_ms(),
                    created_ms=now_ms(),
                    gas_estimate=gas,
                    gas_used=None,
                )
            )

    # --- batch leaves ---------------------------------------------------------------------------------

    def roots_of_leaf(self, leaf: str) -> list[tuple[int, str]]:
        """(agency, root) of every relayed batch that has `leaf` as a leaf."""
        with self.db.session() as session:
            rows = session.execute(
                select(BatchLeaf.agency_id, BatchLeaf.root).where(BatchLeaf.leaf == leaf.lower())
            ).all()
            return [(int(agency_id), str(root)) for agency_id, root in rows]

    def leaves_of(self, agency_id: int, root: str) -> list[str]:
        with self.db.session() as session:
            return list(
                session.scalars(
                    select(BatchLeaf.leaf).where(
                        BatchLeaf.agency_id == agency_id, BatchLeaf.root == root.lower()
                    )
                ).all()
            )

    def open_issuance_for(self, hash_: str) -> str | None:
        """The id of an issuance not yet on the ledger whose root is `hash_` or has `hash_` as a leaf."""
        roots = [hash_.lower(), *(root for _agency, root in self.roots_of_leaf(hash_))]
        with self.db.session() as session:
            return session.scalars(
                select(OutboxRow.id).where(
                    OutboxRow.kind == ISSUE, OutboxRow.root.in_(roots), OutboxRow.status.in_(OPEN_STATES)
                )
            ).first()

    # --- working on rows under a lease ------------------------------------------------------------------

    def open_count(self) -> int:
        with self.db.session() as session:
            return len(session.scalars(select(OutboxRow.id).where(OutboxRow.status.in_(OPEN_STATES))).all())

    def claim(self, limit: int) -> list[str]:
        """Take up to `limit` due requests under this instance's lease; other instances skip them."""
        now = now_ms()
        free = or_(
            OutboxRow.owner.is_(None), OutboxRow.owner == self.worker_id, OutboxRow.lease_until_ms < now
        )
        with self.db.session() as session:
            ids = session.scalars(
                select(OutboxRow.id)
                .where(OutboxRow.status.in_(OPEN_STATES), OutboxRow.next_attempt_ms <= now, free)
                .order_by(OutboxRow.created_ms, OutboxRow.id)
                .limit(limit)
            ).all()
        claimed = []
        for request_id in ids:
            with self.db.session() as session:
                result = session.execute(
                    update(OutboxRow)
                    .where(OutboxRow.id == request_id, free)
                    .values(owner=self.worker_id, lease_until_ms=now + LEASE_MS)
                )
                if result.rowcount == 1:  # type: ignore[attr-defined]
                    claimed.append(request_id)
        return claimed

    def save(self, request_id: str, release: bool = True, **values: Any) -> None:
        """Write `values` to a row this instance holds (and give up its lease unless `release` is False)."""
        values["updated_ms"] = now_ms()
        if release:
            values.update(owner=None, lease_until_ms=0)
        with self.db.session() as session:
            result = session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == request_id, OutboxRow.owner == self.worker_id)
                .values(**values)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                log.warning("outbox request %s: lease lost before saving %s", request_id, sorted(values))

    # --- rewinds ----------------------------------------------------------------------------------------

    def unchecked_rewinds(self, contract: str) -> Sequence[LedgerRewind]:
        """The rewinds of `contract` the outbox has not finished re-checking, oldest first."""
        with self.db.session() as session:
            return session.scalars(
                select(LedgerRewind)
                .where(LedgerRewind.contract == contract, LedgerRewind.outbox_rechecked_ms.is_(None))
                .order_by(LedgerRewind.id)
            ).all()

    def finish_recheck(self, rewind: LedgerRewind) -> bool:
        """Mark `rewind` re-checked if none of the requests it re-opened is open any more."""
        with self.db.session() as session:
            waiting = session.scalars(
                select(OutboxRow.id)
                .join(RewindRecheck, RewindRecheck.request_id == OutboxRow.id)
                .where(RewindRecheck.rewind_id == rewind.id, OutboxRow.status.in_(OPEN_STATES))
            ).first()
            if waiting is not None:
                return False
            session.execute(
                update(LedgerRewind).where(LedgerRewind.id == rewind.id).values(outbox_rechecked_ms=now_ms())
            )
            return True

    def reopen_after(self, rewind: LedgerRewind) -> int | None:
        """Re-open every request confirmed after the rewind's common ancestor, noting each; returns how many,
        or None when another instance took this rewind first."""
        now = now_ms()
        with self.db.session() as session:
            claimed = session.execute(
                update(LedgerRewind)
                .where(LedgerRewind.id == rewind.id, LedgerRewind.outbox_reopened_ms.is_(None))
                .values(outbox_reopened_ms=now)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                return None
            lost = session.scalars(
                select(OutboxRow).where(
                    OutboxRow.status == CONFIRMED, OutboxRow.block_number > rewind.ancestor
                )
            ).all()
            for row in lost:
                session.add(
                    RewindRecheck(
                        rewind_id=rewind.id,
                        request_id=row.id,
                        lost_block=row.block_number,
                        lost_tx_hash=row.tx_hash,
                    )
                )
                session.execute(
                    update(OutboxRow)
                    .where(OutboxRow.id == row.id)
                    .values(
                        status=PENDING,
                        tx_hash=None,
                        block_number=None,
                        block_hash=None,
                        finished_ms=None,
                        owner=None,
                        lease_until_ms=0,
                        next_attempt_ms=0,
                        updated_ms=now,
                        last_problem=(
                            f"the ledger lost block {row.block_number}, which held this request's "
                            f"transaction {row.tx_hash} (a chain rewind or reorg); checking the ledger "
                            "again and sending the same signed request again if it is not there"
                        ),
                    )
                )
            return len(lost)

    def lost_by_rewind(self, request_id: str) -> RewindRecheck | None:
        """Where a rewind took this request off the ledger, if one did."""
        with self.db.session() as session:
            return session.scalars(
                select(RewindRecheck).where(RewindRecheck.request_id == request_id)
            ).first()
