"""Where the replay keeps its per-root and per-target records: in memory, or on disk past a threshold.

A ledger grows by one record per root issued and per hash whose status changed: about 500 bytes each in
Python, 150 GB for a decade of national issuance one by one. Everything else the replay holds (scopes,
agencies, keys, accreditations, counters) is set by governance and stays small, so only these two kinds of
record move. Both stores give the same answers in the same order:

- `MemoryRecords`, a dict, for ledgers below the threshold (`Replayer(memory_records=...)`);
- `SqliteRecords`, one table in a SQLite file, beyond it, each record packed in one BLOB. Reads of a
  window's records are asked for at once before the window is applied (`prefetch`, their keys bound as one
  BLOB), writes are kept in a bounded write-back cache and sent in key order, `WRITE_CHUNK` rows bound as
  one BLOB to a statement, so the replay's memory is bounded whatever the ledger's size. A record read or
  newly recorded stays the row the file holds until something asks for its entry (`SqliteRoots`). The
  file's pragmas are chosen for a rebuildable cache: 32 KiB pages (`PAGE_BYTES`), a rollback journal (no
  WAL) and `synchronous=OFF` (a crash of the process rolls back to the last checkpoint; a crash of the
  machine may need a replay from the start).

A key is `(agency id, 0x-hex hash)`; both stores list records in key order (the state digest's order, and
on disk the order of the file's one b-tree), or by the block they were last written in (`by_block`).
"""

from __future__ import annotations

import json
import sqlite3
import struct
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from operator import itemgetter
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from credreg.chain.states import Status
from credreg.errors import ConfigError

Key = tuple[int, str]
E = TypeVar("E")

# Rows asked for in one SELECT ... IN (...): SQLite accepts up to 32,766 parameters; 500 keeps each
# statement small while making the per-statement cost negligible.
PREFETCH_CHUNK = 500
# Rows asked for in one SELECT whose keys are bound as one BLOB (`SqliteRecords.prefetch`): measured reading
# 200,000 of 700,000 records, 14% less CPU than `SELECT ... IN (...)` of 500 parameters.
FETCH_CHUNK = 5_000
# Records kept in the write-back cache between windows; beyond this the dirty ones are written and the cache
# is emptied. About 25 MB of Python objects.
CACHE_RECORDS = 50_000
# SQLite's own page cache (KiB): a million records take about 70 MB of file, so they are read from memory.
PAGE_CACHE_KIB = 96 * 1024
# Bytes of a page of a new file. Measured inserting 920,000 random records in sorted batches of 40,000: 1.05
# CPU-seconds with 32 KiB pages, 1.69 with SQLite's default 4 KiB (fewer, shallower pages to search and split).
PAGE_BYTES = 32_768
ITERATE_BATCH = 2_000
# Records of one size written by one INSERT statement (`SqliteRecords.flush`): their keys and values are bound
# as one BLOB that SQLite cuts into rows itself. Measured inserting 900,000 sorted records in batches of
# 50,000: 1.5 CPU-seconds instead of 2.1 with `executemany`, whose cost is per row (binding, stepping,
# resetting) far more than the b-tree's: appending keys in ascending order costs `executemany` 2 µs a row too.
WRITE_CHUNK = 1_000
_ROW_NUMBERS = "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?2)"
# Bits of each kind's key filter (16 MB): see `KeyFilter`.
FILTER_BITS = 1 << 27
_FILTER_BYTE = (FILTER_BITS >> 3) - 1
_FILTER_MIX = 0x9E3779B97F4A7C15
# The 28 ways to choose two distinct bits of a byte, repeated to 256 masks (4 of them once more).
_FILTER_PAIRS = tuple(
    [(1 << a) | (1 << b) for a in range(8) for b in range(a + 1, 8)][n % 28] for n in range(256)
)
# How the filters in a file were built (`filters.name` is `{table}{FILTER_SCHEME}`): another name is
# not read, and the filter is rebuilt from the keys.
FILTER_SCHEME = "/byte-pairs"
FILTER_SLICE = 1 << 20  # bytes of a key filter written at once


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
    def add_absent(self, key: Key, entry: E) -> bool: ...
    def __contains__(self, key: object) -> bool: ...
    def __getitem__(self, key: Key) -> E: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[Key]: ...
    def items(self) -> Iterator[tuple[Key, E]]: ...
    def values(self) -> Iterator[E]: ...
    def sorted_items(self) -> Iterator[tuple[Key, E]]: ...
    def by_block(self) -> Iterator[tuple[Key, E]]: ...
    def prefetch(self, keys: Iterable[Key]) -> None: ...


class RootRecords(Records[RootEntry], Protocol):
    """A store of roots, which also records a new root from its fields (`MemoryRoots`, `SqliteRoots`)."""

    def add_root(
        self, key: Key, scope_id: str, signer: str, issued_at: int, valid_until: int, block: int
    ) -> bool: ...


class TargetRecords(Records[TargetEntry], Protocol):
    """A store of status targets, which also records a target's first change from its fields."""

    def add_target(
        self,
        key: Key,
        status: Status,
        reason: int,
        nonce: int,
        since: int,
        by_governor: bool,
        root: str,
        block: int,
    ) -> None: ...


class MemoryRecords(Generic[E]):
    """Records in a dict (ledger order is the dict's insertion order)."""

    def __init__(self, kind: Kind[E]) -> None:
        self.kind = kind
        self.data: dict[Key, E] = {}

    def get(self, key: Key) -> E | None:
        return self.data.get(key)

    def put(self, key: Key, entry: E) -> None:
        self.data[key] = entry

    def add_absent(self, key: Key, entry: E) -> bool:
        """Hold `entry` under `key` unless a record is held there already; whether it was added."""
        return self.data.setdefault(key, entry) is entry

    def __contains__(self, key: object) -> bool:
        return key in self.data

    def __getitem__(self, key: Key) -> E:
        return self.data[key]

    def __len__(self) -> int:
        return len(self.data)

    def __iter__(self) -> Iterator[Key]:
        return iter(sorted(self.data))

    def items(self) -> Iterator[tuple[Key, E]]:
        return self.sorted_items()

    def values(self) -> Iterator[E]:
        return (entry for _, entry in self.sorted_items())

    def sorted_items(self) -> Iterator[tuple[Key, E]]:
        data = self.data
        return ((key, data[key]) for key in sorted(data))

    def by_block(self) -> Iterator[tuple[Key, E]]:
        block = self.kind.block
        return iter(sorted(self.data.items(), key=lambda item: (getattr(item[1], block), item[0])))

    def prefetch(self, keys: Iterable[Key]) -> None:
        return None


class MemoryRoots(MemoryRecords[RootEntry]):
    """Roots in a dict."""

    def __init__(self) -> None:
        super().__init__(ROOTS)

    def add_root(
        self, key: Key, scope_id: str, signer: str, issued_at: int, valid_until: int, block: int
    ) -> bool:
        """`add_absent` of the root with these fields: whether it was added (a root is written once)."""
        entry = RootEntry(key[0], scope_id, signer, issued_at, valid_until, block)
        return self.data.setdefault(key, entry) is entry


class MemoryTargets(MemoryRecords[TargetEntry]):
    """Status targets in a dict."""

    def __init__(self) -> None:
        super().__init__(TARGETS)

    def add_target(
        self,
        key: Key,
        status: Status,
        reason: int,
        nonce: int,
        since: int,
        by_governor: bool,
        root: str,
        block: int,
    ) -> None:
        """A target's first status change (`TargetEntry`'s fields, its `changes` 1), unless one is held."""
        # Many targets of a batch name one root: share its string.
        entry = TargetEntry(status, reason, nonce, since, by_governor, sys.intern(root), 1, block)
        self.data.setdefault(key, entry)


# Distinct strings kept as short ids in the file (scope ids and signer keys: few, repeated by every root). A
# forged ledger could name any number of them: past this many the text is stored in the row itself.
MAX_NAMES = 100_000


class Names:
    """Short ids for the strings many records repeat, kept in the file's `names` table (written in the same
    transaction as the records that use them)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.db = connection
        self.texts: dict[int, str] = dict(connection.execute("SELECT id, text FROM names"))
        self.ids = {text: number for number, text in self.texts.items()}
        self.pairs: dict[tuple[str, str], bytes] = {}  # a root's (scope, signer) -> their ids, packed

    def id_of(self, text: str) -> int | str:
        number = self.ids.get(text)
        if number is not None:
            return number
        if len(self.ids) >= MAX_NAMES:
            return text
        number = len(self.ids) + 1
        self.db.execute("INSERT INTO names VALUES (?, ?)", (number, text))
        self.ids[text], self.texts[number] = number, text
        return number

    def text_of(self, value: int | str) -> str:
        return self.texts[value] if isinstance(value, int) else value


@dataclass(frozen=True)
class Kind(Generic[E]):
    """How one kind of record is kept in its table: the key, then the record packed in one BLOB."""

    table: str
    block: str  # the field holding the block it was last written in
    block_at: int  # where that block number lies in the packed record (8 bytes, big-endian)
    pack: Callable[[E, Names], bytes]
    unpack: Callable[[Key, bytes, Names], E]
    size: int  # bytes of a packed record (a root naming texts instead of ids is longer)
    row: Callable[[Key, E, Names], bytes]  # `key_bytes(key) + pack(entry, names)`, in one step


# A record is one BLOB of fixed-width big-endian fields rather than a column each: SQLite binds two values a
# row instead of six to nine, and Python builds one bytes object instead of a tuple of ints. Measured on
# the 1,000,000-event benchmark with an absent key's answer kept (`get`): 64,500 events per CPU-second on
# disk instead of 57,000; SQLite's own insert of a random key stays about 2 µs a record.
# Big-endian integers compare as bytes in their numeric order, so `by_block` sorts on a slice of the BLOB.
_ROOT = struct.Struct(">QQQII")  # issued_at, valid_until, block, scope id, signer id (ids in `names`)
_ROOT_TIMES, _ROOT_IDS = struct.Struct(">QQQ"), struct.Struct(">II")  # its two parts, the same bytes
_TARGET = struct.Struct(">BQQQBQQ32s")  # status, reason, nonce, since, by_governor, changes, last_block, root
# A row as `SqliteRecords` writes it: the key (`key_bytes`) then the record, packed at once (a root's two ids
# follow). The writer checks each row's length and each hash's, so "32s" never pads nor cuts a key.
_ROOT_ROW = struct.Struct(">I32sQQQ")
_TARGET_ROW = struct.Struct(">I32sBQQQBQQ32s")


def _root_ids(scope_id: str, signer: str, names: Names) -> bytes | None:
    """The ids of a root's scope and signer, packed as its record ends; None past MAX_NAMES strings."""
    # Nearly every root repeats a (scope, signer) pair seen before: its ids' bytes are kept by pair.
    ids = names.pairs.get((scope_id, signer))
    if ids is not None:
        return ids
    scope, signer_id = names.id_of(scope_id), names.id_of(signer)
    if isinstance(scope, int) and isinstance(signer_id, int):
        ids = _ROOT_IDS.pack(scope, signer_id)
        if len(names.pairs) < MAX_NAMES:
            names.pairs[(scope_id, signer)] = ids
        return ids
    return None


def _pack_root(r: RootEntry, names: Names) -> bytes:
    ids = _root_ids(r.scope_id, r.signer, names)
    if ids is not None:
        return _ROOT_TIMES.pack(r.issued_at, r.valid_until, r.block) + ids
    # Past MAX_NAMES distinct strings (only a forged ledger): the texts follow the fixed part.
    texts = json.dumps([r.scope_id, r.signer]).encode()
    return _ROOT.pack(r.issued_at, r.valid_until, r.block, 0, 0) + texts


def _root_row(key: Key, r: RootEntry, names: Names) -> bytes:
    ids = names.pairs.get((r.scope_id, r.signer))
    if ids is None:
        return key_bytes(key) + _pack_root(r, names)
    return _ROOT_ROW.pack(key[0], bytes.fromhex(key[1][2:]), r.issued_at, r.valid_until, r.block) + ids


def _unpack_root(key: Key, raw: bytes, names: Names) -> RootEntry:
    issued_at, valid_until, block, scope, signer = _ROOT.unpack_from(raw)
    if scope == 0:
        scope_id, signer_key = json.loads(raw[_ROOT.size :])
        return RootEntry(key[0], scope_id, signer_key, issued_at, valid_until, block)
    texts = names.texts
    return RootEntry(key[0], texts[scope], texts[signer], issued_at, valid_until, block)


def _pack_target(t: TargetEntry, names: Names) -> bytes:
    return _TARGET.pack(
        t.status,
        t.reason,
        t.nonce,
        t.since,
        t.by_governor,
        t.changes,
        t.last_block,
        bytes.fromhex(t.root[2:]),
    )


def _target_row(key: Key, t: TargetEntry, names: Names) -> bytes:
    return _TARGET_ROW.pack(
        key[0],
        bytes.fromhex(key[1][2:]),
        t.status,
        t.reason,
        t.nonce,
        t.since,
        t.by_governor,
        t.changes,
        t.last_block,
        bytes.fromhex(t.root[2:]),
    )


_STATUSES = tuple(Status)


def _unpack_target(key: Key, raw: bytes, names: Names) -> TargetEntry:
    status, reason, nonce, since, by_governor, changes, last_block, root = _TARGET.unpack(raw)
    return TargetEntry(
        _STATUSES[status], reason, nonce, since, bool(by_governor), "0x" + root.hex(), changes, last_block
    )


# A root's agency is in its key; its scope and signer are ids in `names` (about 70 bytes a row in all).
ROOTS: Kind[RootEntry] = Kind("roots", "block", 16, _pack_root, _unpack_root, _ROOT.size, _root_row)
TARGETS: Kind[TargetEntry] = Kind(
    "targets", "last_block", 34, _pack_target, _unpack_target, _TARGET.size, _target_row
)


KEY_BYTES = 36


def key_bytes(key: Key) -> bytes:
    """A key as 36 bytes (agency id big-endian, then the hash): byte order is the order of `sorted` on keys."""
    return key[0].to_bytes(4, "big") + bytes.fromhex(key[1][2:])


def key_of(raw: bytes) -> Key:
    return (int.from_bytes(raw[:4], "big"), "0x" + raw[4:].hex())


def open_database(path: Path) -> sqlite3.Connection:
    """The store's SQLite file, with the pragmas of the module docstring, inside an open transaction."""
    try:
        connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        connection.execute(f"PRAGMA page_size={PAGE_BYTES}")  # a new file's; an existing one keeps its own
        connection.execute("PRAGMA journal_mode=TRUNCATE")
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("PRAGMA locking_mode=EXCLUSIVE")
        connection.execute(f"PRAGMA cache_size=-{PAGE_CACHE_KIB}")
        connection.execute("PRAGMA temp_store=FILE")
        for kind in (ROOTS, TARGETS):
            # One b-tree keyed by the record's key: a lookup reads one path of pages, and nothing is stored twice.
            connection.execute(
                f"CREATE TABLE IF NOT EXISTS {kind.table} (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID"
            )
        connection.execute(
            "CREATE TABLE IF NOT EXISTS names (id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE)"
        )
        connection.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
        connection.execute("CREATE TABLE IF NOT EXISTS filters (name TEXT PRIMARY KEY, bits BLOB NOT NULL)")
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


class KeyFilter:
    """A blocked Bloom filter over the keys a store holds: two bits of one byte, taken from the hash's first
    64 bits.

    A key it never saw is absent for sure, so the new roots that make most of a ledger's events need no read
    from disk (measured: 0.4 µs a key here against about 8 µs for Python and SQLite to find it missing). At
    16 MB it answers "maybe" for about 1 absent key in 400 at a million records and 1 in 6 at 30 million;
    every "maybe" is asked of the file, so a filter that fills up costs time, never a wrong answer. It is
    kept in the file with the records and committed with them (named `FILTER_SCHEME`, so that a file whose
    filter was built otherwise rebuilds it from its keys).
    """

    __slots__ = ("bits",)

    def __init__(self, bits: bytes | None = None) -> None:
        self.bits = bytearray(bits) if bits is not None else bytearray(FILTER_BITS >> 3)

    # The byte is bits 0-23 of the hash's first 64 bits, mixed with the agency id, and its two bits one of
    # `_FILTER_PAIRS` chosen by bits 24-31: the hash's own bits are as good as any, being keccak256 output (a
    # forged ledger that chose colliding hashes would only make the filter answer "maybe" more often). One
    # byte read and written instead of two bits of two bytes: measured 0.43 µs a key instead of 0.66. Written
    # out in `SqliteRecords` where it runs once or twice per event.

    def add(self, key: Key) -> None:
        h = int(key[1][2:18], 16) ^ (key[0] * _FILTER_MIX)
        self.bits[h & _FILTER_BYTE] |= _FILTER_PAIRS[h >> 24 & 255]

    def may_hold(self, key: Key) -> bool:
        h = int(key[1][2:18], 16) ^ (key[0] * _FILTER_MIX)
        pair = _FILTER_PAIRS[h >> 24 & 255]
        return self.bits[h & _FILTER_BYTE] & pair == pair


_MISSING = object()
_first, _second = itemgetter(0), itemgetter(1)


class SqliteRecords(Generic[E]):
    """Records in one table of a SQLite file, behind a bounded write-back cache (see the module docstring).

    Writes stay inside the connection's open transaction until `commit`, which a checkpoint calls: what is
    on disk after a crash is the last checkpoint's records.

    The cache holds, per key, its entry, None (absent), or its row as the file stores it (`key_bytes`, then
    the packed record): a record read by `prefetch` or a new root recorded from its fields (`SqliteRoots`)
    stays a row until `get` asks for its entry. Most are never asked for: a status change needs only to
    know that its root exists, and a new root's row is what is written.
    """

    def __init__(
        self, connection: sqlite3.Connection, kind: Kind[E], names: Names, cache_records: int | None = None
    ) -> None:
        self.db = connection
        self.kind = kind
        self.names = names
        self.cache_records = CACHE_RECORDS if cache_records is None else cache_records
        self._cache: dict[Key, E | bytes | None] = {}
        self._dirty: dict[Key, E | bytes] = {}
        # Table names are this module's constants (`ROOTS`, `TARGETS`); values are bound.
        table = kind.table
        self._select = f"SELECT k, v FROM {table}"  # noqa: S608
        self._upsert = f"INSERT OR REPLACE INTO {table} (k, v) VALUES (?, ?)"  # noqa: S608
        # ?1: the rows' keys and values one after the other (KEY_BYTES + kind.size bytes a row), ?2: how many.
        row, size = KEY_BYTES + kind.size, kind.size
        cut = f"substr(?1, i * {row} + 1, {KEY_BYTES}), substr(?1, i * {row} + {KEY_BYTES + 1}, {size})"
        self._upsert_packed = f"{_ROW_NUMBERS} INSERT OR REPLACE INTO {table} (k, v) SELECT {cut} FROM n"  # noqa: S608
        # ?1: keys one after the other (KEY_BYTES each), ?2: how many; each is looked up by the primary key.
        wanted = f"substr(?1, i * {KEY_BYTES} + 1, {KEY_BYTES})"
        self._fetch_packed = f"{_ROW_NUMBERS} SELECT k, v FROM n JOIN {table} ON k = {wanted}"  # noqa: S608
        counted = connection.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608
        self._count = int(counted[0])
        self._filter_name = table + FILTER_SCHEME
        saved = connection.execute("SELECT bits FROM filters WHERE name = ?", (self._filter_name,)).fetchone()
        if saved is not None and len(saved[0]) == FILTER_BITS >> 3:
            self.filter = KeyFilter(saved[0])
        else:  # a file from before filters, of another filter size or scheme: rebuilt from the keys
            self.filter = KeyFilter()
            for (raw,) in connection.execute(f"SELECT k FROM {table}"):  # noqa: S608
                self.filter.add(key_of(raw))

    # --- one record ------------------------------------------------------------------------------------

    def get(self, key: Key) -> E | None:
        cache = self._cache
        found = cache.get(key, _MISSING)
        if found.__class__ is bytes:
            entry = self.kind.unpack(key, found[KEY_BYTES:], self.names)
            cache[key] = entry
            return entry
        if found is not _MISSING:
            return found  # type: ignore[return-value]
        if self.filter.may_hold(key):
            row = self.db.execute(self._select + " WHERE k = ?", (key_bytes(key),)).fetchone()
            found = None if row is None else self.kind.unpack(key, row[1], self.names)
        else:
            found = None
        # Kept, absent or not: an issuance asks for its root three times (the rules, the state, the write).
        if len(cache) > 4 * self.cache_records:
            self.flush()
            cache.clear()
        cache[key] = found
        return found

    def put(self, key: Key, entry: E) -> None:
        cache = self._cache
        before = cache.get(key, _MISSING)
        if before is None or (before is _MISSING and self.get(key) is None):
            self._count += 1
            self.filter.add(key)
        cache[key] = entry
        self._dirty[key] = entry
        if len(cache) > 4 * self.cache_records:
            # Only a caller that never prefetches gets here; keep the bound all the same.
            self.flush()
            cache.clear()

    def add_absent(self, key: Key, entry: E) -> bool:
        """Hold `entry` under `key` unless a record is held there already; whether it was added."""
        return self._add_absent(key, entry)

    def _add_absent(self, key: Key, entry: E | bytes) -> bool:
        """`add_absent` of an entry or of its row (a `KEY_BYTES` key then the packed record). A new root
        (nearly every issuance) costs one hash of the key filter and no read."""
        cache = self._cache
        found = cache.get(key, _MISSING)
        if found is _MISSING:
            # `KeyFilter.may_hold` then `add`, written out (once per issuance)
            h = int(key[1][2:18], 16) ^ (key[0] * _FILTER_MIX)
            pair, i = _FILTER_PAIRS[h >> 24 & 255], h & _FILTER_BYTE
            bits = self.filter.bits
            held = bits[i]
            bits[i] = held | pair
            if held & pair == pair and self._read(key) is not None:
                return False  # its record was read into the cache
        elif found is not None:
            return False
        else:
            self.filter.add(key)  # known absent from an earlier look-up
        self._count += 1
        cache[key] = entry
        self._dirty[key] = entry
        if len(cache) > 4 * self.cache_records:
            self.flush()
            cache.clear()
        return True

    def _read(self, key: Key) -> E | None:
        """The record of `key` in the file, kept in the cache (absent or not)."""
        row = self.db.execute(self._select + " WHERE k = ?", (key_bytes(key),)).fetchone()
        found = None if row is None else self.kind.unpack(key, row[1], self.names)
        self._cache[key] = found
        return found

    def __contains__(self, key: object) -> bool:
        found = self._cache.get(key, _MISSING)  # type: ignore[call-overload]
        if found is not _MISSING:
            return found is not None
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
        bits = self.filter.bits
        wanted = []
        for key in keys:
            if key not in cache:
                cache[key] = None  # absent unless the file has it
                # `KeyFilter.may_hold`, written out (once per status change's root and target)
                h = int(key[1][2:18], 16) ^ (key[0] * _FILTER_MIX)
                pair = _FILTER_PAIRS[h >> 24 & 255]
                if bits[h & _FILTER_BYTE] & pair == pair:
                    wanted.append(key)
        unpack, names, db = self.kind.unpack, self.names, self.db
        raws = [k[0].to_bytes(4, "big") + bytes.fromhex(k[1][2:]) for k in wanted]  # `key_bytes`
        asked = dict(zip(raws, wanted, strict=True))  # a row's key is the key asked for, not parsed again
        raws.sort()  # neighbouring keys share pages
        packed = set(map(len, raws)) <= {KEY_BYTES}
        size = FETCH_CHUNK if packed else PREFETCH_CHUNK
        for start in range(0, len(raws), size):
            chunk = raws[start : start + size]
            if packed:
                # The keys bound as one BLOB that SQLite cuts itself: no statement text of one "?" a key to
                # build, and one value to bind.
                rows = db.execute(self._fetch_packed, (b"".join(chunk), len(chunk)))
            else:  # a key of another length (not a 32-byte hash): one parameter each
                rows = db.execute(f"{self._select} WHERE k IN ({', '.join('?' * len(chunk))})", chunk)
            for raw, value in rows:
                key = asked[raw]
                # A row is made an entry if `get` asks for it (a key of another length: at once).
                cache[key] = raw + value if packed else unpack(key, value, names)

    def flush(self) -> None:
        """Write the cached changes to the file (inside the open transaction)."""
        if not self._dirty:
            return
        self._write(self._dirty)
        self._dirty.clear()

    def _write(self, records: dict[Key, E | bytes] | dict[Key, E]) -> None:
        """Insert or replace `records` (entries, or rows as the cache holds them) in key order (each statement
        then walks the b-tree once from left to right), `WRITE_CHUNK` to a statement."""
        row, names, db = self.kind.row, self.names, self.db
        # Each row's packed key and record as one bytes object: the keys being of one length and distinct,
        # these sort as the keys do. A new root is a row already.
        rows = [e if e.__class__ is bytes else row(k, e, names) for k, e in records.items()]  # type: ignore[arg-type]
        width = KEY_BYTES + self.kind.size
        # Every row of the one width, every hash of 64 digits (`kind.row` would pad a shorter one): counted
        # by `map` in C.
        if set(map(len, rows)) == {width} and set(map(len, map(_second, records))) == {66}:
            rows.sort()
            packed = self._upsert_packed
            for start in range(0, len(rows), WRITE_CHUNK):
                chunk = rows[start : start + WRITE_CHUNK]
                db.execute(packed, (b"".join(chunk), len(chunk)))
        else:  # a record of another size (only a forged ledger's roots): one row at a time
            pack = self.kind.pack
            pairs = sorted(
                (
                    (key_bytes(k), e[KEY_BYTES:] if e.__class__ is bytes else pack(e, names))  # type: ignore[arg-type]
                    for k, e in records.items()
                ),
                key=_first,
            )
            db.executemany(self._upsert, pairs)

    def save_filter(self) -> None:
        """Store the key filter in the file, in the open transaction (a checkpoint commits it).

        Written a slice at a time into a blob made of zeros: binding the whole filter made SQLite copy its
        16 MB twice over, and each checkpoint of the million-event benchmark rose to 342 MB from 274 MB."""
        db, bits = self.db, self.filter.bits
        name = self._filter_name
        # A filter of an earlier scheme (this file's before this replay) is of no more use.
        db.execute("DELETE FROM filters WHERE name = ?", (self.kind.table,))
        db.execute("INSERT OR REPLACE INTO filters VALUES (?, zeroblob(?))", (name, len(bits)))
        (rowid,) = db.execute("SELECT rowid FROM filters WHERE name = ?", (name,)).fetchone()
        view = memoryview(bits)
        with db.blobopen("filters", "bits", rowid) as blob:
            for start in range(0, len(bits), FILTER_SLICE):
                blob.write(view[start : start + FILTER_SLICE])

    def _rows(self, order: str) -> Iterator[tuple[Key, E]]:
        self.flush()
        unpack, names = self.kind.unpack, self.names
        cursor = self.db.execute(f"{self._select} ORDER BY {order}")
        while True:
            rows = cursor.fetchmany(ITERATE_BATCH)
            if not rows:
                return
            for raw, value in rows:
                key = key_of(raw)
                yield key, unpack(key, value, names)

    def __iter__(self) -> Iterator[Key]:
        return (key for key, _ in self._rows("k"))

    def items(self) -> Iterator[tuple[Key, E]]:
        return self._rows("k")

    def values(self) -> Iterator[E]:
        return (entry for _, entry in self._rows("k"))

    def sorted_items(self) -> Iterator[tuple[Key, E]]:
        return self._rows("k")

    def by_block(self) -> Iterator[tuple[Key, E]]:
        return self._rows(f"substr(v, {self.kind.block_at + 1}, 8), k")

    def load(self, items: Iterable[tuple[Key, E]]) -> None:
        """Write `items` (keys not yet stored, in any order) in batches of `cache_records`, each in key
        order."""
        iterator = iter(items)
        add = self.filter.add
        while batch := dict(islice(iterator, max(1, self.cache_records))):
            self._write(batch)
            self._count += len(batch)
            for key in batch:
                add(key)


class SqliteRoots(SqliteRecords[RootEntry]):
    """Roots in a SQLite file. A new root is kept as the row written for it, not as a `RootEntry` built,
    cached, then packed at the flush: measured on the million-event benchmark, 3%
    less CPU for the replay (10.25 CPU-seconds instead of 10.54, alternating runs), and 5 MB less memory."""

    def __init__(
        self, connection: sqlite3.Connection, names: Names, cache_records: int | None = None
    ) -> None:
        super().__init__(connection, ROOTS, names, cache_records)

    def add_root(
        self, key: Key, scope_id: str, signer: str, issued_at: int, valid_until: int, block: int
    ) -> bool:
        """`add_absent` of the root with these fields: whether it was added (a root is written once)."""
        ids = self.names.pairs.get((scope_id, signer))
        if ids is None:
            ids = _root_ids(scope_id, signer, self.names)
        if ids is None or len(key[1]) != 66:  # its texts in its record, or a key of another length
            return self._add_absent(key, RootEntry(key[0], scope_id, signer, issued_at, valid_until, block))
        row = _ROOT_ROW.pack(key[0], bytes.fromhex(key[1][2:]), issued_at, valid_until, block) + ids
        return self._add_absent(key, row)


class SqliteTargets(SqliteRecords[TargetEntry]):
    """Status targets in a SQLite file; a target's first change is kept as the row written for it, as
    `SqliteRoots` keeps a new root."""

    def __init__(
        self, connection: sqlite3.Connection, names: Names, cache_records: int | None = None
    ) -> None:
        super().__init__(connection, TARGETS, names, cache_records)

    def add_target(
        self,
        key: Key,
        status: Status,
        reason: int,
        nonce: int,
        since: int,
        by_governor: bool,
        root: str,
        block: int,
    ) -> None:
        """`MemoryTargets.add_target`."""
        if len(key[1]) != 66 or len(root) != 66:  # a hash of another length: the general way
            self._add_absent(key, TargetEntry(status, reason, nonce, since, by_governor, root, 1, block))
            return
        row = _TARGET_ROW.pack(
            key[0], bytes.fromhex(key[1][2:]), status, reason, nonce, since, by_governor, 1, block,
            bytes.fromhex(root[2:]),
        )  # fmt: skip
        self._add_absent(key, row)


def chunks(items: Iterator[tuple[Key, E]], size: int) -> Iterator[list[tuple[Key, E]]]:
    """`items` in lists of at most `size` (a store's records, a bounded number at a time)."""
    while batch := list(islice(items, size)):
        yield batch


__all__ = [
    "CACHE_RECORDS",
    "Key",
    "MemoryRecords",
    "MemoryRoots",
    "MemoryTargets",
    "Names",
    "Records",
    "RootEntry",
    "RootRecords",
    "SqliteRecords",
    "SqliteRoots",
    "SqliteTargets",
    "TargetEntry",
    "TargetRecords",
    "chunks",
    "key_bytes",
    "open_database",
    "read_checkpoint",
]
