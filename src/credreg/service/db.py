"""The service's database: the outbox of accepted requests and the index of ledger events.

SQLite under the data directory by default, PostgreSQL through `CREDREG_DATABASE_URL` when several service
instances share one database. Only portable SQL is used (no upserts, no JSON operators), so the same code runs
on both; times are integer milliseconds since the epoch for the same reason.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    BigInteger,
    Engine,
    Index,
    Integer,
    String,
    Text,
    create_engine,
    event,
    inspect,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from credreg.chain.codec import LedgerEvent
from credreg.errors import ConfigError

HASH_LEN = 66  # "0x" + 64 hex digits
ADDRESS_LEN = 42


def now_ms() -> int:
    return int(time.time() * 1000)


class Base(DeclarativeBase):
    pass


class OutboxRow(Base):
    """One accepted, agency-signed request, from acceptance until it is on the ledger or has failed."""

    __tablename__ = "outbox"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # What makes two POSTs "the same request": kind, domain, signed fields and the recovered signer.
    request_key: Mapped[str] = mapped_column(String(HASH_LEN), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # issue | status-change
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending | submitted | confirmed | failed
    root: Mapped[str] = mapped_column(String(HASH_LEN), index=True)
    target: Mapped[str | None] = mapped_column(String(HASH_LEN), index=True)
    action: Mapped[int | None] = mapped_column(Integer)
    nonce: Mapped[int | None] = mapped_column(BigInteger)
    signer: Mapped[str] = mapped_column(String(ADDRESS_LEN))
    agency_id: Mapped[int] = mapped_column(BigInteger)
    payload: Mapped[str] = mapped_column(Text)  # the signed request as received (normalised JSON)
    tx_hash: Mapped[str | None] = mapped_column(String(HASH_LEN))
    block_number: Mapped[int | None] = mapped_column(BigInteger)
    block_hash: Mapped[str | None] = mapped_column(String(HASH_LEN))
    error_name: Mapped[str | None] = mapped_column(String(128))
    error_message: Mapped[str | None] = mapped_column(Text)
    error_args: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_problem: Mapped[str | None] = mapped_column(Text)
    next_attempt_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    owner: Mapped[str | None] = mapped_column(String(64))
    lease_until_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    updated_ms: Mapped[int] = mapped_column(BigInteger)
    submitted_ms: Mapped[int | None] = mapped_column(BigInteger)
    finished_ms: Mapped[int | None] = mapped_column(BigInteger)
    # What relaying costs, for the agency's daily gas quota: estimated at intake, gasUsed once confirmed.
    gas_estimate: Mapped[int | None] = mapped_column(BigInteger)
    gas_used: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_outbox_agency_created", "agency_id", "created_ms"),)


class AgencyRequestRow(Base):
    """One signed request an agency sent, kept for its rate limit: in the database, so the count survives
    restarts and is shared by every instance."""

    __tablename__ = "agency_requests"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    agency_id: Mapped[int] = mapped_column(BigInteger)
    at_ms: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_agency_requests_agency_at", "agency_id", "at_ms"),)


class BatchLeaf(Base):
    """A leaf target hash of an agency's batch whose root the service relayed, so a leaf can be looked up
    alone. Keyed by agency first, as the ledger keys roots: another agency's batch holding the same hashes
    is another row."""

    __tablename__ = "batch_leaves"

    agency_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    root: Mapped[str] = mapped_column(String(HASH_LEN), primary_key=True)
    leaf: Mapped[str] = mapped_column(String(HASH_LEN), primary_key=True)

    __table_args__ = (Index("ix_batch_leaves_leaf", "leaf"),)


class BatchChunk(Base):
    """The root of one run of `CHUNK` leaves of a large batch, in tree order, written with its leaves: a
    leaf's proof is then read from its own chunk and the chunks' roots, never from the whole batch."""

    __tablename__ = "batch_chunks"

    agency_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    root: Mapped[str] = mapped_column(String(HASH_LEN), primary_key=True)
    chunk_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_leaf: Mapped[str] = mapped_column(String(HASH_LEN))
    node: Mapped[str] = mapped_column(String(HASH_LEN))


class BatchUpload(Base):
    """A batch's leaves being uploaded in parts (`POST /v1/batches/uploads`): open until every part is in
    and the leaves are checked, then `listed`. Its leaves wait in `batch_upload_leaves`, never served."""

    __tablename__ = "batch_uploads"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # The same signed upload sent again finds this row: agency, root, leaves hash and count.
    upload_key: Mapped[str] = mapped_column(String(HASH_LEN), unique=True)
    agency_id: Mapped[int] = mapped_column(Integer, index=True)
    root: Mapped[str] = mapped_column(String(HASH_LEN))
    leaves_hash: Mapped[str] = mapped_column(String(HASH_LEN))
    signer: Mapped[str] = mapped_column(String(ADDRESS_LEN))
    count: Mapped[int] = mapped_column(BigInteger)
    part_leaves: Mapped[int] = mapped_column(Integer)
    parts: Mapped[int] = mapped_column(Integer, default=0)  # parts acknowledged, 1 to `parts`
    received: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(16))  # open | listed
    added: Mapped[int | None] = mapped_column(BigInteger)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    updated_ms: Mapped[int] = mapped_column(BigInteger)
    finished_ms: Mapped[int | None] = mapped_column(BigInteger)


class UploadLeaf(Base):
    """A leaf of an open upload, at `seq` in the order sent; the key refuses a leaf sent twice."""

    __tablename__ = "batch_upload_leaves"

    upload_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    leaf: Mapped[str] = mapped_column(String(HASH_LEN), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_batch_upload_leaves_seq", "upload_id", "seq", unique=True),)


class LedgerEventRow(Base):
    """One confirmed registry event. Rebuilding from the chain yields exactly the same rows."""

    __tablename__ = "ledger_events"

    block_number: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    log_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    block_hash: Mapped[str] = mapped_column(String(HASH_LEN))
    block_time: Mapped[int] = mapped_column(BigInteger)
    transaction_hash: Mapped[str] = mapped_column(String(HASH_LEN))
    transaction_index: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(64), index=True)
    agency_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    root: Mapped[str | None] = mapped_column(String(HASH_LEN), index=True)
    args: Mapped[str] = mapped_column(Text)  # JSON, keys sorted

    def args_dict(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.args)
        return value

    @classmethod
    def from_event(cls, event: LedgerEvent) -> LedgerEventRow:
        """The one conversion from the codec's `LedgerEvent` (its block hash and time known) to a row."""
        if event.block_time is None:
            raise ValueError(f"{event.name} at block {event.block_number}: the row needs its block's time")
        args = {k: _json_value(v) for k, v in event.args.items()}
        agency, root = args.get("agencyId"), args.get("root")
        return cls(
            block_number=event.block_number,
            log_index=event.log_index,
            block_hash=event.block_hash,
            block_time=event.block_time,
            transaction_hash=event.transaction_hash,
            transaction_index=event.transaction_index,
            name=event.name,
            agency_id=int(agency) if isinstance(agency, int) else None,
            root=str(root).lower() if isinstance(root, str) else None,
            args=json.dumps(args, sort_keys=True, separators=(",", ":")),
        )

    def to_event(self) -> LedgerEvent:
        """The row as the codec's `LedgerEvent` again (arguments in their JSON form, keys sorted)."""
        return LedgerEvent(
            name=self.name,
            block_number=self.block_number,
            block_hash=self.block_hash,
            transaction_hash=self.transaction_hash,
            transaction_index=self.transaction_index,
            log_index=self.log_index,
            args=self.args_dict(),
            block_time=self.block_time,
        )


def _json_value(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    return value


class IndexCursor(Base):
    """How far the event index has read, per registry: the next block to read."""

    __tablename__ = "index_cursor"

    contract: Mapped[str] = mapped_column(String(ADDRESS_LEN), primary_key=True)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    next_block: Mapped[int] = mapped_column(BigInteger)
    updated_ms: Mapped[int] = mapped_column(BigInteger)


class KnownBlock(Base):
    """The hash of a block the service has read: the last block of every range the index read, every block
    with events, and every block the outbox saw a request confirmed in. A rewind or reorg shows as a kept
    hash the chain no longer has at that height."""

    __tablename__ = "known_blocks"

    contract: Mapped[str] = mapped_column(String(ADDRESS_LEN), primary_key=True)
    block_number: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    block_hash: Mapped[str] = mapped_column(String(HASH_LEN))


class LedgerRewind(Base):
    """A rewind or reorg the index found: blocks after `ancestor` it had read are gone from the chain.

    The service has diverged from the ledger until both the index has read the chain again up to where it
    was (`index_resynced_ms`) and the outbox has re-checked every request confirmed after the ancestor
    (`outbox_rechecked_ms`); /readyz fails until then.
    """

    __tablename__ = "ledger_rewinds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contract: Mapped[str] = mapped_column(String(ADDRESS_LEN))
    ancestor: Mapped[int] = mapped_column(BigInteger)  # the last block both chains share
    lost_to: Mapped[int] = mapped_column(BigInteger)  # the last block the index had read
    head: Mapped[int] = mapped_column(BigInteger)  # the chain's head when it was found
    detected_ms: Mapped[int] = mapped_column(BigInteger)
    index_resynced_ms: Mapped[int | None] = mapped_column(BigInteger)
    outbox_reopened_ms: Mapped[int | None] = mapped_column(BigInteger)
    outbox_rechecked_ms: Mapped[int | None] = mapped_column(BigInteger)


class RewindRecheck(Base):
    """A request the outbox had confirmed in a block a rewind took away, checked again because of it."""

    __tablename__ = "rewind_rechecks"

    rewind_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    lost_block: Mapped[int] = mapped_column(BigInteger)
    lost_tx_hash: Mapped[str | None] = mapped_column(String(HASH_LEN))


class Database:
    """An engine and session factory; `create_schema()` makes the tables if they are missing."""

    def __init__(self, url: str) -> None:
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise ConfigError(f"the database URL is not valid: {exc}") from exc
        self.url = parsed
        self.dialect = parsed.get_backend_name()
        kwargs: dict[str, Any] = {"pool_pre_ping": True}
        if self.dialect == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                from pathlib import Path

                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            # The API's threads and the background workers share the file; writers wait for each other.
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        self.engine: Engine = create_engine(parsed, **kwargs)
        if self.dialect == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def create_schema(self) -> None:
        """Make missing tables, and add the nullable columns a newer credreg keeps to older tables."""
        Base.metadata.create_all(self.engine)
        present = inspect(self.engine)
        with self.engine.begin() as connection:
            for table in Base.metadata.sorted_tables:
                have = {c["name"] for c in present.get_columns(table.name)}
                for column in table.columns:
                    if column.name not in have and column.nullable and not column.primary_key:
                        kind = column.type.compile(dialect=self.engine.dialect)
                        connection.execute(
                            text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}')
                        )

    def drop_schema(self) -> None:
        Base.metadata.drop_all(self.engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on any error."""
        with self._sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def keep_block(db: Database, contract: str, number: int, block_hash: str) -> None:
    """Remember that the service read block `number` of `contract`'s chain with this hash."""
    try:
        with db.session() as session:
            session.merge(KnownBlock(contract=contract, block_number=number, block_hash=block_hash.lower()))
    except IntegrityError:
        pass  # another instance kept it at the same moment


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside the single writer; FULL makes every commit durable before the 202.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
