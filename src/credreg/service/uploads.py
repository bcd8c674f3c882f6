"""A batch's leaves uploaded in parts, for batches too large for one request (a national batch of 1,000,000
certificates is 69 MB of JSON): memory stays bounded by one part, whatever the batch's size.

1. `open_upload` takes the signed `BatchLeaves` request (agency, root, keccak256 of the leaves in the order
   sent) and the leaf count, checked as `POST /v1/batches` checks them (domain, the signer is the agency's,
   the root is on the ledger in the agency's namespace); the same signed upload sent again finds the same
   upload, with what it has acknowledged, so a client resumes from the next part.
2. `put_part` takes part n (1-based; every part holds `part_leaves` leaves but the last): each leaf a 0x
   bytes32, none sent before in the upload. A part is written in one transaction with the count of parts
   acknowledged, so a crash keeps whole parts only; a part sent again is compared with the one kept.
3. `complete` checks the count, the leaves' hash against the signed one and the merkle root they build
   against the batch's, reading the kept leaves back in runs of `READ_ROWS`; then, in one transaction, the
   leaves join the batch's (`batch_leaves`, as `POST /v1/batches` writes them), with the roots of their
   chunks (`batch_chunks`), and the upload is `listed`. Until then nothing of it is served; leaves that do
   not make the signed hash or the root discard the upload.

Open uploads left alone longer than the time to live are discarded when another upload opens, and an
agency may have only a few open at once, so a half-sent upload never holds disk for long.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils.crypto import keccak
from sqlalchemy import delete, func, insert, literal, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from credreg.chain.eip712 import BatchLeavesRequest, CompactSignature
from credreg.documents._keccak import new_keccak256
from credreg.labels import UPLOAD_PROBLEMS
from credreg.service.batches import check_signed, chunk_roots, count_leaves, write_chunks
from credreg.service.db import BatchLeaf, BatchUpload, Database, UploadLeaf, now_ms
from credreg.service.intake import RequestRefused
from credreg.service.outbox import Outbox

OPEN = "open"
LISTED = "listed"
READ_ROWS = 8192  # leaves read back per query while checking an upload
DROP_ROWS = 50_000  # kept leaves deleted per transaction once an upload is listed or discarded
LOOKUP_ROWS = 500  # leaves per IN (...) when finding which ones were sent before (SQLite's bound is 999+)
_LEAF = re.compile(r"0x[0-9a-fA-F]{64}")


def words(key: str, **values: Any) -> str:
    """The bilingual detail `UPLOAD_PROBLEMS[key]` with `values` filled in: "中文 / English"."""
    text = UPLOAD_PROBLEMS[key]
    return f"{text.zh.format(**values)} / {text.en.format(**values)}"


class UploadProblem(RequestRefused):
    """An upload refused: `problem` a stable slug whose title `UPLOAD_PROBLEMS` has, `status` the HTTP one."""

    def __init__(self, status: int, problem: str, field: str | None, key: str, **values: Any) -> None:
        super().__init__(problem, field, words(key, **values), conflict=status == 409)
        self.status = status


@dataclass(frozen=True)
class UploadLimits:
    max_leaves: int = 5_000_000
    part_leaves: int = 10_000
    ttl_seconds: int = 86_400
    open_per_agency: int = 4


@dataclass(frozen=True)
class UploadState:
    id: str
    agency_id: int
    root: str
    count: int
    part_leaves: int
    parts: int
    received: int
    status: str
    added: int | None
    expires_ms: int | None
    repeated: bool = False

    @property
    def parts_total(self) -> int:
        return math.ceil(self.count / self.part_leaves)

    @property
    def next_part(self) -> int | None:
        return self.parts + 1 if self.parts < self.parts_total else None

    def part_size(self, part: int) -> int:
        return min(self.part_leaves, self.count - (part - 1) * self.part_leaves)


def _key(request: BatchLeavesRequest, count: int) -> str:
    text = f"{request.agency_id}|{request.root.lower()}|{request.leaves_hash.lower()}|{count}"
    return "0x" + keccak(text.encode()).hex()


class BatchUploads:
    """The uploads of batches' leaves in parts (see the module docstring)."""

    def __init__(self, outbox: Outbox, limits: UploadLimits) -> None:
        self.outbox = outbox
        self.db: Database = outbox.db
        self.limits = limits
        mark = {"qmark": "?", "numeric": ":1"}.get(self.db.engine.dialect.paramstyle, "%s")
        marks = ", ".join([mark] * 3) if mark != ":1" else ":1, :2, :3"
        # Only the driver's placeholders are put in: the values go as parameters.
        self._insert_leaves = f"INSERT INTO batch_upload_leaves (upload_id, leaf, seq) VALUES ({marks})"  # noqa: S608

    def _state(self, row: BatchUpload, *, repeated: bool = False) -> UploadState:
        expires = None if row.status == LISTED else row.updated_ms + self.limits.ttl_seconds * 1000
        return UploadState(
            id=row.id, agency_id=row.agency_id, root=row.root, count=row.count, part_leaves=row.part_leaves,
            parts=row.parts, received=row.received, status=row.status, added=row.added, expires_ms=expires,
            repeated=repeated,
        )  # fmt: skip

    def _not_found(self, upload_id: str) -> UploadProblem:
        hours = round(self.limits.ttl_seconds / 3600, 1)
        return UploadProblem(
            404, "upload-not-found", "upload_id", "upload.not_found", id=upload_id, hours=hours
        )

    def _row(self, upload_id: str) -> BatchUpload:
        with self.db.session() as session:
            row = session.get(BatchUpload, upload_id)
        if row is None or (row.status == OPEN and self._expired(row, now_ms())):
            raise self._not_found(upload_id)
        return row

    def _expired(self, row: BatchUpload, now: int) -> bool:
        return row.updated_ms + self.limits.ttl_seconds * 1000 <= now

    # --- the steps ------------------------------------------------------------------------------------

    def open_upload(
        self,
        chain_id: int,
        registry: str,
        request: BatchLeavesRequest,
        signature: CompactSignature,
        count: int,
    ) -> UploadState:
        """Open an upload of `count` leaves for the signed `request`, or find the one already open for it."""
        if count > self.limits.max_leaves:
            raise UploadProblem(
                413, "upload-too-large", "count", "upload.too_many", count=count, limit=self.limits.max_leaves
            )
        signer = check_signed(self.outbox, chain_id, registry, request, signature)
        key = _key(request, count)
        self.purge_expired()
        with self.db.session() as session:
            found = session.scalars(select(BatchUpload).where(BatchUpload.upload_key == key)).first()
            if found is not None:
                return self._state(found, repeated=True)
            open_now = session.scalar(
                select(func.count(BatchUpload.id)).where(
                    BatchUpload.agency_id == request.agency_id, BatchUpload.status == OPEN
                )
            )
        if int(open_now or 0) >= self.limits.open_per_agency:
            raise UploadProblem(
                409, "upload-limit", "request.agency_id", "upload.open_limit", agency=request.agency_id,
                open=open_now,
            )  # fmt: skip
        now = now_ms()
        row = BatchUpload(
            id=str(uuid.uuid4()), upload_key=key, agency_id=request.agency_id, root=request.root.lower(),
            leaves_hash=request.leaves_hash.lower(), signer=signer, count=count,
            part_leaves=self.limits.part_leaves, parts=0, received=0, status=OPEN, added=None,
            created_ms=now, updated_ms=now, finished_ms=None,
        )  # fmt: skip
        try:
            with self.db.session() as session:
                session.add(row)
        except IntegrityError:
            # The same upload opened at the same moment by another request: answer with that one.
            with self.db.session() as session:
                found = session.scalars(select(BatchUpload).where(BatchUpload.upload_key == key)).one()
            return self._state(found, repeated=True)
        return self._state(row)

    def state(self, upload_id: str) -> UploadState:
        return self._state(self._row(upload_id))

    def put_part(self, upload_id: str, part: int, leaves: Sequence[str]) -> UploadState:
        """Keep part `part` of the upload after checking its leaves; a part acknowledged already is compared."""
        state = self.state(upload_id)
        if state.status == LISTED or part < 1 or part > state.parts_total:
            if state.status == LISTED and 1 <= part <= state.parts_total:
                return state  # the whole upload is in and listed: a part sent again changes nothing
            raise UploadProblem(
                404, "not-found", "part", "upload.no_part", total=state.parts_total, part=part
            )
        want = state.part_size(part)
        if len(leaves) != want:
            field = "leaves"
            raise UploadProblem(
                413 if len(leaves) > want else 422, "upload-too-large" if len(leaves) > want else "validation",
                field, "upload.part_size", part=part, want=want, got=len(leaves),
            )  # fmt: skip
        normal = []
        for index, leaf in enumerate(leaves):
            if not isinstance(leaf, str) or not _LEAF.fullmatch(leaf):
                raise UploadProblem(
                    422, "invalid-leaf", f"leaves[{index}]", "upload.bad_leaf", part=part, index=index,
                    leaf=repr(leaf)[:80],
                )  # fmt: skip
            normal.append(leaf.lower())
        first_seq = (part - 1) * state.part_leaves
        if part <= state.parts:
            self._compare(state, part, first_seq, normal)
            return state
        if part != state.parts + 1:
            raise UploadProblem(
                409, "upload-part-out-of-order", "part", "upload.out_of_order", part=part,
                next=state.next_part, parts=state.parts,
            )  # fmt: skip
        seen: dict[str, int] = {}
        for index, leaf in enumerate(normal):
            if leaf in seen:
                raise UploadProblem(
                    422, "duplicate-leaf", f"leaves[{index}]", "upload.duplicate", leaf=leaf, part=part,
                    index=index,
                )  # fmt: skip
            seen[leaf] = index
        rows = [(upload_id, leaf, first_seq + i) for i, leaf in enumerate(normal)]
        try:
            with self.db.session() as session:
                # Acknowledge the part only if it is still the next one: two senders of one part race here.
                moved = session.execute(
                    update(BatchUpload)
                    .where(
                        BatchUpload.id == upload_id, BatchUpload.parts == part - 1, BatchUpload.status == OPEN
                    )
                    .values(parts=part, received=BatchUpload.received + len(normal), updated_ms=now_ms())
                )
                if moved.rowcount != 1:  # type: ignore[attr-defined]
                    raise _Raced()
                # The driver's own executemany: an ORM or Core insert of a part costs ten times the memory.
                session.connection().exec_driver_sql(self._insert_leaves, rows)
        except _Raced:
            return self.put_part(upload_id, part, leaves)
        except IntegrityError:
            raise self._duplicate(upload_id, part, normal) from None
        return self.state(upload_id)

    def _compare(self, state: UploadState, part: int, first_seq: int, leaves: list[str]) -> None:
        with self.db.session() as session:
            kept = session.scalars(
                select(UploadLeaf.leaf)
                .where(
                    UploadLeaf.upload_id == state.id,
                    UploadLeaf.seq >= first_seq,
                    UploadLeaf.seq < first_seq + len(leaves),
                )
                .order_by(UploadLeaf.seq)
            ).all()
        for index, (a, b) in enumerate(zip(kept, leaves, strict=True)):
            if a != b:
                raise UploadProblem(
                    409, "upload-part-conflict", f"leaves[{index}]", "upload.part_conflict", part=part,
                    index=index,
                )  # fmt: skip

    def _duplicate(self, upload_id: str, part: int, leaves: list[str]) -> UploadProblem:
        for start in range(0, len(leaves), LOOKUP_ROWS):
            batch = leaves[start : start + LOOKUP_ROWS]
            with self.db.session() as session:
                known = set(
                    session.scalars(
                        select(UploadLeaf.leaf).where(
                            UploadLeaf.upload_id == upload_id, UploadLeaf.leaf.in_(batch)
                        )
                    ).all()
                )
            for offset, leaf in enumerate(batch):
                if leaf in known:
                    index = start + offset
                    return UploadProblem(
                        422, "duplicate-leaf", f"leaves[{index}]", "upload.duplicate", leaf=leaf, part=part,
                        index=index,
                    )  # fmt: skip
        # Not a leaf sent before: the part itself was written meanwhile by another sender.
        return UploadProblem(409, "upload-part-conflict", "part", "upload.part_conflict", part=part, index=0)

    def complete(self, upload_id: str) -> UploadState:
        """Check the whole upload and list its leaves with the batch's; the upload is then `listed`."""
        row = self._row(upload_id)
        if row.status == LISTED:
            return self._state(row, repeated=True)
        state = self._state(row)
        if state.received != state.count:
            raise UploadProblem(
                422, "upload-incomplete", "parts", "upload.incomplete", received=state.received,
                count=state.count, next=state.next_part,
            )  # fmt: skip
        if self.db.dialect == "postgresql":
            # Fresh statistics, or the planner may scan the whole table for every run read back below.
            with self.db.session() as session:
                session.execute(text("ANALYZE batch_upload_leaves"))
        digest: Any = new_keccak256(b"")
        for run in self._runs(upload_id, UploadLeaf.seq):
            digest.update(b"".join(bytes.fromhex(leaf[2:]) for leaf in run))
        got = "0x" + digest.hexdigest()
        if got != row.leaves_hash:
            self.discard(upload_id)
            raise UploadProblem(422, "invalid-leaves", "leaves", "upload.hash", got=got, want=row.leaves_hash)
        built, chunks = chunk_roots(self._runs(upload_id, UploadLeaf.leaf))
        if built != row.root:
            self.discard(upload_id)
            raise UploadProblem(422, "invalid-leaves", "leaves", "upload.root", got=built, want=row.root)
        self._list(row, chunks)
        return self._state(self._row(upload_id))

    def _runs(self, upload_id: str, order: Any) -> Iterator[list[str]]:
        """The upload's leaves ordered by `order` (seq, or the leaf: tree order), `READ_ROWS` at a time."""
        last: Any = None
        while True:
            query = select(UploadLeaf.leaf, order).where(UploadLeaf.upload_id == upload_id)
            if last is not None:
                query = query.where(order > last)
            with self.db.session() as session:
                rows = session.execute(query.order_by(order).limit(READ_ROWS)).all()
            if not rows:
                return
            last = rows[-1][1]
            yield [str(r[0]) for r in rows]

    def _list(self, row: BatchUpload, chunks: list[tuple[int, str, str]]) -> None:
        """In one transaction: the leaves join the batch's, with its chunks, and the upload is listed."""
        agency, root = row.agency_id, row.root
        new_leaves = select(
            literal(agency, BatchLeaf.agency_id.type), literal(root, BatchLeaf.root.type), UploadLeaf.leaf
        ).where(UploadLeaf.upload_id == row.id)
        for _ in range(2):  # a second time only after another transaction listed the same leaves first
            try:
                with self.db.session() as session:
                    status = session.scalar(select(BatchUpload.status).where(BatchUpload.id == row.id))
                    if status != OPEN:
                        return  # completed meanwhile by another request, or discarded
                    if not count_leaves(session, agency, root):
                        # The usual case, a batch not known here: one INSERT … SELECT (an anti-join against
                        # the leaves known would cost PostgreSQL a scan per row).
                        session.execute(
                            insert(BatchLeaf).from_select(["agency_id", "root", "leaf"], new_leaves)
                        )
                        added = row.count
                    else:
                        added = self._add_missing(session, row)
                    write_chunks(session, agency, root, chunks)
                    now = now_ms()
                    session.execute(
                        update(BatchUpload)
                        .where(BatchUpload.id == row.id)
                        .values(status=LISTED, added=added, updated_ms=now, finished_ms=now)
                    )
                break
            except IntegrityError:
                continue
        # Outside the listing's transaction, which on SQLite holds every other writer back while it runs.
        self._drop_staged(row.id)

    def _add_missing(self, session: Session, row: BatchUpload) -> int:
        """Add the upload's leaves the batch does not have yet, a run at a time; how many."""
        added = 0
        for run in self._runs(row.id, UploadLeaf.leaf):
            known = set(
                session.scalars(
                    select(BatchLeaf.leaf).where(
                        BatchLeaf.agency_id == row.agency_id,
                        BatchLeaf.root == row.root,
                        BatchLeaf.leaf.in_(run),
                    )
                ).all()
            )
            new = [{"agency_id": row.agency_id, "root": row.root, "leaf": x} for x in run if x not in known]
            if new:
                session.execute(insert(BatchLeaf), new)
                added += len(new)
        return added

    def discard(self, upload_id: str) -> None:
        """Forget an open upload and its leaves (a listed one stays listed)."""
        with self.db.session() as session:
            row = session.get(BatchUpload, upload_id)
            if row is None:
                raise self._not_found(upload_id)
            if row.status != OPEN:
                return
            session.delete(row)
        self._drop_staged(upload_id)

    def _drop_staged(self, upload_id: str) -> None:
        """Delete the leaves an upload kept, `DROP_ROWS` at a time: no transaction holds the database long.
        They are never read once their upload is listed or gone, so a crash halfway leaves nothing visible
        (`purge_expired` finishes the job)."""
        with self.db.session() as session:
            top = session.scalar(select(func.max(UploadLeaf.seq)).where(UploadLeaf.upload_id == upload_id))
        if top is None:
            return
        for start in range(0, int(top) + 1, DROP_ROWS):
            with self.db.session() as session:
                session.execute(
                    delete(UploadLeaf).where(
                        UploadLeaf.upload_id == upload_id, UploadLeaf.seq < start + DROP_ROWS
                    )
                )

    def purge_expired(self) -> int:
        """Discard the open uploads left alone longer than the time to live; how many."""
        since = now_ms() - self.limits.ttl_seconds * 1000
        with self.db.session() as session:
            stale = session.scalars(
                select(BatchUpload.id).where(BatchUpload.status == OPEN, BatchUpload.updated_ms <= since)
            ).all()
        for upload_id in stale:
            with self.db.session() as session:
                session.execute(
                    delete(BatchUpload).where(BatchUpload.id == upload_id, BatchUpload.status == OPEN)
                )
        # Leaves of uploads listed or gone: those just discarded, and any a crash left behind.
        with self.db.session() as session:
            leftover = session.scalars(
                select(UploadLeaf.upload_id)
                .distinct()
                .where(UploadLeaf.upload_id.not_in(select(BatchUpload.id).where(BatchUpload.status == OPEN)))
            ).all()
        for upload_id in leftover:
            self._drop_staged(upload_id)
        return len(stale)


class _Raced(Exception):
    """Another sender acknowledged the same part first."""
