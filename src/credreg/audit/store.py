"""Where the replay keeps its per-root and per-target records: in memory, or on disk past a threshold.

A ledger grows by one record per root issued and per hash whose status changed: about 500 bytes each in
Python, 150 GB for a decade of national issuance one by one. Everything else the replay holds (scopes,
agencies, keys, accreditations, counters) is set by governance and stays small, so only these two kinds of
record move. Both stores give the same answers in the same order:

- `MemoryRecords`, a dict, for ledgers below the threshold (`Replayer(memory_records=...)`);
- `SqliteRecords`, one table in a SQLite file, beyond it. Reads of a window's records are asked for at once
  before the window is applied (`prefetch`), writes are kept in a bounded write-back cache and sent in
  `executemany` batches, so the replay's memory is bounded whatever the ledger's size. The file's pragmas
  are chosen for a rebuildable cache: a rollback journal (no WAL) and `synchronous=OFF` (a crash of the
  process rolls back to the last checkpoint; a crash of the machine may need a replay from the start).

Records are listed in the order they were first written (ledger order), or sorted by key for the state
digest; a key is `(agency id, 0x-hex hash)`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from credreg.chain.states import Status
from credreg.errors import ConfigError

Key = tuple[int, str]
E = TypeVar("E")

# Rows asked for in one SELECT ... IN (...): SQLite accepts up to 32,766 parameters; 500 keeps each
# statement small while making the per-statement cost negligible.
PREFETCH_CHUNK = 500
# Records kept in the write-back cache between windows; beyond this the dirty ones are written and the cache
# is emptied. About 25 MB of Python objects.
CACHE_RECORDS = 50_000
# SQLite's own page cache (KiB). The index over the keys is the hot part: 1,000,000 records use about 60 MB.
PAGE_CACHE_KIB = 64 * 1024
ITERATE_BATCH = 2_000


@dataclass(slots=True)
class RootEntry:
    agency_id: int
    scope_id: str
    signer: str
    issued_at: int
    valid_until: int
    block: int


@dataclass(slots=True)
class TargetEntry:
    """A hash's status in its agency's namespace as `statusOf` gives it, plus the root it was last proved
    against."""

    status: Status
    reason: int
    nonce: int
    since: int
    by_governor: bool
    root: str
    changes: int
    last_block: int


class Records(Protocol[E]):
    """What the replay asks of a store of records (`MemoryRecords`, `SqliteRecords`)."""

    def get(self, key: Key) -> E | None: ...
    def put(self, key: Key, entry: E) -> None: ...
    def __contains__(self, key: object) -> bool: ...
    def __getitem__(self, key: Key) -> E: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[Key]: ...
    def items(self) -> Iterator[tuple[Key, E]]: ...
    def values(self) -> Iterator[E]: ...
    def sorted_items(self) -> Iterator[tuple[Key, E]]: ...
    def by_block(self) -> Iterator[tuple[Key, E]]: ...
    def prefetch(self, keys: Iterable[Key]) -> None: ...


class MemoryRecords(Generic[E]):
    """Records in a dict (ledger order is the dict's insertion order)."""

    def __init__(self, kind: Kind[E]) -> None:
        self.kind = kind
        self.data: dict[Key, E] = {}

    def get(self, key: Key) -> E | None:
        return self.data.get(key)

    def put(self, key: Key, entry: E) -> None:
        self.data[key] = entry

    def __contains__(self, key: object) -> bool:
        return key in self.data

    def __getitem__(self, key: Key) -> E:
        return self.data[key]

    def __len__(self) -> int:
        return len(self.data)

    def __iter__(self) -> Iterator[Key]:
        return iter(self.data)

    def items(self) -> Iterator[tuple[Key, E]]:
        return iter(self.data.items())

    def values(self) -> Iterator[E]:
        return iter(self.data.values())

    def sorted_items(self) -> Iterator[tuple[Key, E]]:
        data = self.data
        return ((key, data[key]) for key in sorted(data))

    def by_block(self) -> Iterator[tuple[Key, E]]:
        block = self.kind.block
        return iter(sorted(self.data.items(), key=lambda item: (getattr(item[1], block), item[0])))

    def prefetch(self, keys: Iterable[Key]) -> None:
        return None


@dataclass(frozen=True)
class Kind(Generic[E]):
    """How one kind of record is laid out in its table."""

    table: str
    block: str  # the field holding the block it was last written in
    # (name, SQL type) after the key; the names are the entry's fields
    columns: tuple[tuple[str, str], ...]
    to_row: Callable[[E], tuple[object, ...]]
    from_row: Callable[[tuple[object, ...]], E]


def _root_from_row(row: tuple[object, ...]) -> RootEntry:
    return RootEntry(*row)  # type: ignore[arg-type]


def _target_from_row(row: tuple[Any, ...]) -> TargetEntry:
    status, reason, nonce, since, by_governor, root, changes, last_block = row
    return TargetEntry(Status(status), reason, nonce, since, bool(by_governor), root, changes, last_block)


ROOTS: Kind[RootEntry] = Kind(
    "roots",
    "block",
    (("agency_id", "INTEGER"), ("scope_id", "TEXT"), ("signer", "TEXT"), ("issued_at", "INTEGER"),
     ("valid_until", "INTEGER"), ("block", "INTEGER")),
    lambda r: (r.agency_id, r.scope_id, r.signer, r.issued_at, r.valid_until, r.block),
    _root_from_row,
)  # fmt: skip
TARGETS: Kind[TargetEntry] = Kind(
    "targets",
    "last_block",
    (("status", "INTEGER"), ("reason", "INTEGER"), ("nonce", "INTEGER"), ("since", "INTEGER"),
     ("by_governor", "INTEGER"), ("root", "TEXT"), ("changes", "INTEGER"), ("last_block", "INTEGER")),
    lambda t: (int(t.status), t.reason, t.nonce, t.since, int(t.by_governor), t.root, t.changes, t.last_block),
    _target_from_row,
)  # fmt: skip


def key_bytes(key: Key) -> bytes:
    """A key as 36 bytes (agency id big-endian, then the hash): byte order is the order of `sorted` on keys."""
    return key[0].to_bytes(4, "big") + bytes.fromhex(key[1][2:])


def key_of(raw: bytes) -> Key:
    return (int.from_bytes(raw[:4], "big"), "0x" + raw[4:].hex())


def open_database(path: Path) -> sqlite3.Connection:
    """The store's SQLite file, with the pragmas of the module docstring, inside an open transaction."""
    try:
        connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        connection.execute("PRAGMA journal_mode=TRUNCATE")
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("PRAGMA locking_mode=EXCLUSIVE")
        connection.execute(f"PRAGMA cache_size=-{PAGE_CACHE_KIB}")
        connection.execute("PRAGMA temp_store=FILE")
        for kind in (ROOTS, TARGETS):
            columns = ", ".join(f"{name} {sql}" for name, sql in kind.columns)
            connection.execute(f"CREATE TABLE IF NOT EXISTS {kind.table} (k BLOB NOT NULL UNIQUE, {columns})")
        connection.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
        connection.execute("BEGIN")
    except sqlite3.Error as exc:
        raise ConfigError(f"the audit's record store {path} cannot be opened: {exc}") from exc
    return connection


def read_checkpoint(path: Path) -> str:
    """The checkpoint committed with the records in the store file at `path`."""
    if not path.is_file():
        raise ConfigError(f"the audit's record store {path} is missing")
    connection = sqlite3.connect(path)
    try:
        row = connection.execute("SELECT value FROM meta WHERE name = 'checkpoint'").fetchone()
    except sqlite3.Error as exc:
        raise ConfigError(f"the audit's record store {path} cannot be read: {exc}") from exc
    finally:
        connection.close()
    if row is None:
        raise ConfigError(f"the audit's record store {path} holds no checkpoint")
    return str(row[0])


_MISSING = object()


class SqliteRecords(Generic[E]):
    """Records in one table of a SQLite file, behind a bounded write-back cache (see the module docstring).

    Writes stay inside the connection's open transaction until `commit`, which a checkpoint calls: what is
    on disk after a crash is the last checkpoint's records.
    """

    def __init__(
        self, connection: sqlite3.Connection, kind: Kind[E], cache_records: int | None = None
    ) -> None:
        self.db = connection
        self.kind = kind
        self.cache_records = CACHE_RECORDS if cache_records is None else cache_records
        self._cache: dict[Key, E | None] = {}
        self._dirty: dict[Key, E] = {}
        # Table and column names are this module's constants (`ROOTS`, `TARGETS`); values are bound.
        names = [name for name, _ in kind.columns]
        table = kind.table
        self._select = f"SELECT k, {', '.join(names)} FROM {table}"  # noqa: S608
        self._upsert = (
            f"INSERT INTO {table} (k, {', '.join(names)}) VALUES ({', '.join('?' * (len(names) + 1))}) "  # noqa: S608
            f"ON CONFLICT(k) DO UPDATE SET {', '.join(f'{n} = excluded.{n}' for n in names)}"
        )
        counted = connection.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608
        self._count = int(counted[0])

    # --- one record ------------------------------------------------------------------------------------

    def get(self, key: Key) -> E | None:
        found = self._cache.get(key, _MISSING)
        if found is not _MISSING:
            return found  # type: ignore[return-value]
        row = self.db.execute(self._select + " WHERE k = ?", (key_bytes(key),)).fetchone()
        return None if row is None else self.kind.from_row(row[1:])

    def put(self, key: Key, entry: E) -> None:
        cache = self._cache
        before = cache.get(key, _MISSING)
        if before is None or (before is _MISSING and self.get(key) is None):
            self._count += 1
        cache[key] = entry
        self._dirty[key] = entry
        if len(cache) > 4 * self.cache_records:
            # Only a caller that never prefetches gets here; keep the bound all the same.
            self.flush()
            cache.clear()

    def __contains__(self, key: object) -> bool:
        return isinstance(key, tuple) and self.get(key) is not None

    def __getitem__(self, key: Key) -> E:
        entry = self.get(key)
        if entry is None:
            raise KeyError(key)
        return entry

    def __len__(self) -> int:
        return self._count

    # --- many ------------------------------------------------------------------------------------------

    def prefetch(self, keys: Iterable[Key]) -> None:
        """Load the records of `keys` into the cache in a few statements (absent ones are cached as absent)."""
        cache = self._cache
        if len(cache) > self.cache_records:
            self.flush()
            cache.clear()
        wanted = list(dict.fromkeys(k for k in keys if k not in cache))
        from_row = self.kind.from_row
        for start in range(0, len(wanted), PREFETCH_CHUNK):
            chunk = wanted[start : start + PREFETCH_CHUNK]
            for key in chunk:
                cache[key] = None
            query = f"{self._select} WHERE k IN ({', '.join('?' * len(chunk))})"
            for row in self.db.execute(query, [key_bytes(k) for k in chunk]):
                cache[key_of(row[0])] = from_row(row[1:])

    def flush(self) -> None:
        """Write the cached changes to the file (inside the open transaction)."""
        if not self._dirty:
            return
        to_row = self.kind.to_row
        self.db.executemany(self._upsert, [(key_bytes(k), *to_row(e)) for k, e in self._dirty.items()])
        self._dirty.clear()

    def _rows(self, order: str) -> Iterator[tuple[Key, E]]:
        self.flush()
        from_row = self.kind.from_row
        cursor = self.db.execute(f"{self._select} ORDER BY {order}")
        while True:
            rows = cursor.fetchmany(ITERATE_BATCH)
            if not rows:
                return
            for row in rows:
                yield key_of(row[0]), from_row(row[1:])

    def __iter__(self) -> Iterator[Key]:
        return (key for key, _ in self._rows("rowid"))

    def items(self) -> Iterator[tuple[Key, E]]:
        return self._rows("rowid")

    def values(self) -> Iterator[E]:
        return (entry for _, entry in self._rows("rowid"))

    def sorted_items(self) -> Iterator[tuple[Key, E]]:
        return self._rows("k")

    def by_block(self) -> Iterator[tuple[Key, E]]:
        return self._rows(f"{self.kind.block}, k")

    def load(self, items: Iterable[tuple[Key, E]]) -> None:
        """Write `items` (keys not yet stored) in their order, in batches."""
        to_row = self.kind.to_row
        iterator = iter(items)
        while batch := list(islice(iterator, ITERATE_BATCH)):
            self.db.executemany(self._upsert, [(key_bytes(k), *to_row(e)) for k, e in batch])
            self._count += len(batch)


def chunks(items: Iterator[tuple[Key, E]], size: int) -> Iterator[list[tuple[Key, E]]]:
    """`items` in lists of at most `size` (a store's records, a bounded number at a time)."""
    while batch := list(islice(items, size)):
        yield batch


__all__ = [
    "CACHE_RECORDS",
    "Key",
    "MemoryRecords",
    "Records",
    "RootEntry",
    "SqliteRecords",
    "TargetEntry",
    "chunks",
    "key_bytes",
    "open_database",
    "read_checkpoint",
]
