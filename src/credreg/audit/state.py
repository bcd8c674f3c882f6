"""The registry's state rebuilt from its events alone, one event at a time, exactly as the contract keeps it.

What is held is what the contract holds (per scope, agency, signer key, issuer key, accreditation, and per
agency each root and status target, keyed `(agency id, hash)` as the contract keys them) plus the history
of governance changes (few: each is a governor or admin transaction) and counters. No raw log is kept. Per
status target the current status, the number of changes and the root it was last proved against are kept;
the full sequence of changes is in the events export and in `credreg audit status`, which replays with a
watch on one credential.

Roots and status targets, the part that grows with the ledger, live in a record store (`audit.store`): in
memory for a small ledger, in a SQLite file past a threshold (`spill`), with the same answers either way.
Governance state stays in memory.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from credreg.audit.digest import state_digest
from credreg.audit.findings import Finding
from credreg.audit.source import time_of
from credreg.audit.store import (
    Key,
    MemoryRecords,
    MemoryRoots,
    MemoryTargets,
    Names,
    RootEntry,
    RootRecords,
    SqliteRecords,
    SqliteRoots,
    SqliteTargets,
    TargetEntry,
    TargetRecords,
    open_database,
)
from credreg.chain.codec import LedgerEvent
from credreg.chain.states import AgencyState, Status, Verdict
from credreg.chain.states import in_window as in_window
from credreg.documents.merkle import combine as merkle_combine
from credreg.errors import ConfigError

MAX_FINDINGS_KEPT = 1_000
DAY = 86_400
ZERO_ADDRESS = "0x" + "00" * 20
ZERO_HASH = "0x" + "00" * 32


def dump_event(event: LedgerEvent) -> list[Any]:
    """A governance event in a checkpoint (`load_event` reads it back)."""
    return [
        event.block_number, event.block_time, event.log_index, event.transaction_hash, event.name, event.args,
        event.block_hash, event.transaction_index,
    ]  # fmt: skip


def load_event(raw: Sequence[Any]) -> LedgerEvent:
    return LedgerEvent(
        name=str(raw[4]), block_number=int(raw[0]), block_hash=str(raw[6]), transaction_hash=str(raw[3]),
        transaction_index=int(raw[7]), log_index=int(raw[2]), args=dict(raw[5]), block_time=int(raw[1]),
    )  # fmt: skip


@dataclass(slots=True)
class ScopeEntry:
    scope_id: str
    index: int
    occupation_code: str
    level: int
    title: str
    history: list[LedgerEvent] = field(default_factory=list)
    retired_at: int = 0


@dataclass(slots=True)
class AgencyEntry:
    agency_id: int
    name: str
    registration_code: str
    admin: str
    state: AgencyState = AgencyState.ACTIVE
    reason: int = 0
    cutoff: int = 0
    history: list[LedgerEvent] = field(default_factory=list)
    document_store: str = ZERO_ADDRESS


@dataclass(slots=True)
class KeyEntry:
    """A key of one agency, with its window and its compromise time. Signer keys (addresses that sign
    issuances and status changes) and issuer keys (Ed25519 public keys that sign verifiable credentials)
    follow the same rules on chain, so one type and one set of handlers serve both."""

    key: str
    agency_id: int
    valid_from: int
    valid_until: int
    compromised_since: int = 0
    history: list[LedgerEvent] = field(default_factory=list)
    index: int = 0  # a signer key's index on chain; issuer keys have none

    def valid_at(self, moment: int) -> bool:
        return in_window(self.valid_from, self.valid_until, moment)


@dataclass(frozen=True, slots=True)
class KeyKind:
    """Which book of keys an event is about, and the argument naming the key."""

    book: str  # attribute of LedgerState
    arg: str
    noun: str
    unknown: str  # the finding code for a key that is not the named agency's


SIGNER_KEYS = KeyKind("signers", "signer", "signer", "signer-unknown")
ISSUER_KEYS = KeyKind("issuer_keys", "publicKey", "issuer key", "issuer-key-unknown")


def key_kind(event_name: str) -> KeyKind:
    return SIGNER_KEYS if event_name.startswith("Signer") else ISSUER_KEYS


@dataclass(slots=True)
class AccreditationEntry:
    agency_id: int
    scope_id: str
    scope_index: int
    valid_from: int
    valid_until: int
    history: list[LedgerEvent] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class VerdictResult:
    verdict: Verdict
    target: str
    reason: int
    since: int
    record: RootEntry | None


def day_of(day: int) -> str:
    """The UTC date of day number `day` (days since 1970-01-01)."""
    return datetime.fromtimestamp(day * DAY, UTC).strftime("%Y-%m-%d")


def combine(a: str, b: str) -> str:
    """Sorted-pair keccak256 of two 0x-hex hashes, as OpenZeppelin's MerkleProof."""
    return "0x" + merkle_combine(bytes.fromhex(a[2:]), bytes.fromhex(b[2:])).hex()


class LedgerState:
    """Everything the contract holds, rebuilt; `apply` one event at a time, oldest first."""

    def __init__(self) -> None:
        self.governor: str = ZERO_ADDRESS
        self.pending_governor: str = ZERO_ADDRESS
        self.governor_history: list[LedgerEvent] = []
        self.scopes: dict[str, ScopeEntry] = {}
        self.scope_by_index: dict[int, str] = {}
        self.agencies: dict[int, AgencyEntry] = {}
        self.agency_count = 0
        self.agency_by_code: dict[str, int] = {}
        self.signers: dict[str, KeyEntry] = {}
        self.signer_by_index: dict[int, str] = {}
        self.issuer_keys: dict[str, KeyEntry] = {}
        self.accreditations: dict[tuple[int, str], AccreditationEntry] = {}
        # (agency id, hash): the contract's own keys, so one agency's records never touch another's
        self.roots: RootRecords = MemoryRoots()
        self.targets: TargetRecords = MemoryTargets()
        self.database: sqlite3.Connection | None = None
        self.database_path: Path | None = None
        self.events_by_name: Counter[str] = Counter()
        # (agency id, scope id) -> roots issued; (agency id, action, by governor) -> status changes
        self.issued: Counter[tuple[int, str]] = Counter()
        self.actions: Counter[tuple[int, int, bool]] = Counter()
        # (UTC day number, agency id, what) -> count, for a readable timeline of credential activity
        self.daily: Counter[tuple[int, int, str]] = Counter()
        self.findings: list[Finding] = []
        self.finding_counts: Counter[str] = Counter()
        # (agency id, scope id, signer key) -> when that signer may issue that scope for that agency, as
        # governance stands (`invariants`); emptied by every governance event.
        self.issuing: dict[tuple[int, str, str], tuple[int, int, str, str] | None] = {}

    # --- where the records live --------------------------------------------------------------------------

    @property
    def records(self) -> int:
        """Roots and status targets held."""
        return len(self.roots) + len(self.targets)

    def spill(self, path: Path) -> None:
        """Move the roots and targets into a new SQLite file at `path` (an existing file is replaced)."""
        if self.database is not None:
            raise ConfigError(f"the audit's records are already in {self.database_path}")
        for stale in (path, path.with_name(path.name + "-journal")):
            stale.unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        database = open_database(path)
        names = Names(database)
        roots, targets = SqliteRoots(database, names), SqliteTargets(database, names)
        # In the dict's order: `load` sorts their packed keys, faster than `sorted` sorts the tuples.
        roots.load(self.roots.data.items() if isinstance(self.roots, MemoryRecords) else self.roots.items())
        targets.load(
            self.targets.data.items() if isinstance(self.targets, MemoryRecords) else self.targets.items()
        )
        self.roots, self.targets = roots, targets
        self.database, self.database_path = database, path

    def attach(self, path: Path) -> None:
        """Use the records of the store file at `path` (a checkpoint's, see `commit`)."""
        if not path.is_file():
            raise ConfigError(f"the audit's record store {path} is missing")
        database = open_database(path)
        names = Names(database)
        self.roots, self.targets = SqliteRoots(database, names), SqliteTargets(database, names)
        self.database, self.database_path = database, path

    def commit(self, checkpoint: str) -> None:
        """Make the records on disk, with `checkpoint` (the rest of the state), the new restart point."""
        database = self.database
        if database is None:
            raise ConfigError("the audit's records are in memory; there is nothing to commit")
        for records in (self.roots, self.targets):
            if isinstance(records, SqliteRecords):
                records.flush()
                records.save_filter()
        database.execute("INSERT OR REPLACE INTO meta VALUES ('checkpoint', ?)", (checkpoint,))
        database.execute("COMMIT")
        database.execute("BEGIN")

    def close(self) -> None:
        """Let go of the record file; what was not committed is rolled back."""
        if self.database is not None:
            self.database.close()
            self.database = None

    def prefetch(self, events: Iterable[LedgerEvent]) -> None:
        """Load the records the status changes among `events` will read, all at once (a no-op while they are
        in memory). An issuance's root is left to the store's key filter: new roots, nearly all of them, are
        known absent without a read, which measured 20% faster than asking for them with the rest."""
        if self.database is None:
            return
        roots: list[Key] = []
        targets: list[Key] = []
        for event in events:
            if event.name == "CredentialStatusChanged":
                a = event.args
                roots.append((a["agencyId"], a["root"]))
                targets.append((a["agencyId"], a["target"]))
        self.roots.prefetch(roots)
        self.targets.prefetch(targets)

    # --- findings ----------------------------------------------------------------------------------------

    def add_finding(self, finding: Finding) -> None:
        self.finding_counts[finding.code] += 1
        if len(self.findings) < MAX_FINDINGS_KEPT:
            self.findings.append(finding)

    @property
    def findings_total(self) -> int:
        return sum(self.finding_counts.values())

    # --- applying events ---------------------------------------------------------------------------------

    def apply(self, event: LedgerEvent) -> bool:
        """Apply `event`; False if the audit has no rule for this event type (nothing changed)."""
        name = event.name
        handler = _HANDLERS.get(name)
        self.events_by_name[name] += 1
        if handler is None:
            return False
        if name != "CredentialIssued" and name != "CredentialStatusChanged":
            self.issuing.clear()  # governance changed
        handler(self, event)
        return True

    def _ownership_transfer_started(self, ev: LedgerEvent) -> None:
        self.pending_governor = ev.args["newOwner"]
        self.governor_history.append(ev)

    def _ownership_transferred(self, ev: LedgerEvent) -> None:
        self.governor = ev.args["newOwner"]
        self.pending_governor = ZERO_ADDRESS
        self.governor_history.append(ev)

    def _scope_defined(self, ev: LedgerEvent) -> None:
        a = ev.args
        if a["scopeId"] in self.scopes:
            self.scopes[a["scopeId"]].history.append(ev)
            return  # write-once on chain: the first definition stands
        self.scopes[a["scopeId"]] = ScopeEntry(
            a["scopeId"], a["scopeIndex"], a["occupationCode"], a["level"], a["title"], [ev]
        )
        self.scope_by_index[a["scopeIndex"]] = a["scopeId"]

    def _scope_retired(self, ev: LedgerEvent) -> None:
        scope = self.scopes.get(ev.args["scopeId"])
        if scope is None:
            return  # only a forged ledger retires an unknown scope; the invariants name it
        scope.retired_at = ev.args["retiredAt"]
        scope.history.append(ev)

    def _agency_registered(self, ev: LedgerEvent) -> None:
        a = ev.args
        self.agency_count += 1
        self.agencies[a["agencyId"]] = AgencyEntry(
            a["agencyId"],
            a["name"],
            a["registrationCode"],
            a["admin"],
            history=[ev],
            document_store=a["documentStore"],
        )
        self.agency_by_code.setdefault(a["registrationCode"], a["agencyId"])

    def _agency(self, ev: LedgerEvent) -> AgencyEntry:
        agency_id = ev.args["agencyId"]
        entry = self.agencies.get(agency_id)
        if entry is None:
            # Only a forged ledger names an unregistered agency; keep its trail rather than drop it.
            entry = self.agencies[agency_id] = AgencyEntry(agency_id, "", "", ZERO_ADDRESS, AgencyState.NONE)
        entry.history.append(ev)
        return entry

    def _agency_admin_transferred(self, ev: LedgerEvent) -> None:
        self._agency(ev).admin = ev.args["newAdmin"]

    def _agency_suspended(self, ev: LedgerEvent) -> None:
        entry = self._agency(ev)
        entry.state = AgencyState.SUSPENDED
        entry.reason = ev.args["reason"]

    def _agency_reinstated(self, ev: LedgerEvent) -> None:
        self._agency(ev).state = AgencyState.ACTIVE

    def _agency_revoked(self, ev: LedgerEvent) -> None:
        entry = self._agency(ev)
        entry.state = AgencyState.REVOKED
        entry.reason = ev.args["reason"]
        entry.cutoff = ev.args["cutoff"]

    def _accreditation_changed(self, ev: LedgerEvent) -> None:
        a = ev.args
        key = (a["agencyId"], a["scopeId"])
        entry = self.accreditations.get(key)
        if entry is None:
            scope = self.scopes.get(a["scopeId"])
            entry = self.accreditations[key] = AccreditationEntry(
                a["agencyId"], a["scopeId"], scope.index if scope else 0, 0, 0
            )
        entry.valid_from = a["validFrom"]
        entry.valid_until = a["validUntil"]
        entry.history.append(ev)

    # Signer keys and issuer keys: one window mechanism (`KeyEntry`, `KeyKind`).

    def keys_of(self, kind: KeyKind) -> dict[str, KeyEntry]:
        book: dict[str, KeyEntry] = getattr(self, kind.book)
        return book

    def _key_added(self, ev: LedgerEvent) -> None:
        a = ev.args
        kind = key_kind(ev.name)
        book = self.keys_of(kind)
        key = a[kind.arg]
        if key in book:
            book[key].history.append(ev)
            return  # a key belongs to its first agency forever
        index = a.get("signerIndex", 0)
        book[key] = KeyEntry(key, a["agencyId"], a["validFrom"], a["validUntil"], 0, [ev], index)
        if kind is SIGNER_KEYS:
            self.signer_by_index[index] = key

    def _key(self, ev: LedgerEvent) -> KeyEntry:
        kind = key_kind(ev.name)
        book = self.keys_of(kind)
        key = ev.args[kind.arg]
        entry = book.get(key)
        if entry is None:
            # Only a forged ledger changes a key never added; keep its trail rather than drop it.
            entry = book[key] = KeyEntry(key, ev.args["agencyId"], 0, 0)
        entry.history.append(ev)
        return entry

    def _key_retired(self, ev: LedgerEvent) -> None:
        entry = self._key(ev)
        entry.valid_from = ev.args["validFrom"]
        entry.valid_until = ev.args["validUntil"]

    def _key_compromised(self, ev: LedgerEvent) -> None:
        self._key(ev).compromised_since = ev.args["since"]

    def _credential_issued(self, ev: LedgerEvent) -> None:
        a = ev.args
        agency_id = a["agencyId"]
        # Few distinct scopes and signers stand behind many roots: share their strings (about 200 bytes a root).
        added = self.roots.add_root(
            (agency_id, a["root"]), sys.intern(a["scopeId"]), sys.intern(a["signer"]), a["issuedAt"],
            a["validUntil"], ev.block_number,
        )  # fmt: skip
        if added:  # write-once per agency: the first stands
            self.count_issuance(agency_id, a["scopeId"], time_of(ev))

    def count_issuance(self, agency_id: int, scope_id: str, moment: int) -> None:
        """The counters of a root just recorded."""
        self.issued[(agency_id, scope_id)] += 1
        self.daily[(moment // DAY, agency_id, "issued")] += 1

    def _credential_status_changed(self, ev: LedgerEvent) -> None:
        a = ev.args
        if a["action"] not in (1, 2, 3):
            return
        key = (a["agencyId"], a["target"])
        self.record_status_change(ev, key, self.targets.get(key), time_of(ev))

    def record_status_change(self, ev: LedgerEvent, key: Key, entry: TargetEntry | None, moment: int) -> None:
        """Status change `ev` (action 1, 2 or 3) of target `key`, whose record before it is `entry`."""
        a = ev.args
        action = a["action"]
        status = Status.REVOKED if action == 1 else Status.SUSPENDED if action == 2 else Status.NONE
        by_governor = bool(a["byGovernor"])
        if entry is None:
            self.targets.add_target(
                key, status, a["reason"], a["nonce"], moment, by_governor, a["root"], ev.block_number
            )
        else:
            entry.status = status
            entry.reason = a["reason"]
            entry.nonce = a["nonce"]
            entry.since = moment
            entry.by_governor = by_governor
            entry.root = sys.intern(a["root"])
            entry.changes += 1
            entry.last_block = ev.block_number
            self.targets.put(key, entry)
        self.actions[(a["agencyId"], action, by_governor)] += 1
        self.daily[(moment // DAY, a["agencyId"], _ACTION_NAMES[action])] += 1

    # --- answers -----------------------------------------------------------------------------------------

    def verdict(
        self, agency_id: int, root: str, leaf: str, proof: Sequence[str], moment: int
    ) -> VerdictResult:
        """What `credentialStatus(agencyId, root, leaf, proof)` answers at time `moment` on this state."""
        record = self.roots.get((agency_id, root))
        if record is None:
            return VerdictResult(Verdict.NOT_ISSUED, root, 0, 0, None)
        path = [leaf]
        for sibling in proof:
            path.append(combine(path[-1], sibling))
        if path[-1] != root:
            return VerdictResult(Verdict.INVALID_PROOF, leaf, 0, 0, record)
        return self.verdict_of_path(agency_id, path, moment)

    def verdict_of_path(self, agency_id: int, path: Sequence[str], moment: int) -> VerdictResult:
        """The verdict for the hashes `path` (leaf first, root last) of `agency_id`, taken as proved."""
        root = path[-1]
        record = self.roots.get((agency_id, root))
        if record is None:
            return VerdictResult(Verdict.NOT_ISSUED, root, 0, 0, None)
        return self.verdict_of_record(agency_id, path, record, moment)

    def verdict_of_record(
        self, agency_id: int, path: Sequence[str], record: RootEntry, moment: int
    ) -> VerdictResult:
        """`verdict_of_path` for a root whose record the caller already holds."""
        root = path[-1]
        found = self._highest(path, agency_id, Status.REVOKED)
        if found is not None:
            return VerdictResult(
                Verdict(Verdict.ROOT_REVOKED + found[0]), found[1], found[2].reason, found[2].since, record
            )
        invalidation = self.invalidation(record)
        if invalidation is not None:
            return VerdictResult(invalidation[0], root, invalidation[1], invalidation[2], record)
        if record.valid_until != 0 and record.valid_until <= moment:
            return VerdictResult(Verdict.EXPIRED, root, 0, record.valid_until, record)
        found = self._highest(path, agency_id, Status.SUSPENDED)
        if found is not None:
            return VerdictResult(
                Verdict(Verdict.ROOT_SUSPENDED + found[0]), found[1], found[2].reason, found[2].since, record
            )
        return VerdictResult(Verdict.VALID, ZERO_HASH, 0, 0, record)

    def invalidation(self, record: RootEntry) -> tuple[Verdict, int, int] | None:
        """Agency revoked with a cut-off at or before issuance, or signer compromised since then or before."""
        agency = self.agencies.get(record.agency_id)
        if agency is not None and agency.state is AgencyState.REVOKED and agency.cutoff <= record.issued_at:
            return (Verdict.AGENCY_REVOKED, agency.reason, agency.cutoff)
        signer = self.signers.get(record.signer)
        if (
            signer is not None
            and signer.compromised_since != 0
            and signer.compromised_since <= record.issued_at
        ):
            return (Verdict.SIGNER_COMPROMISED, 0, signer.compromised_since)
        return None

    def _highest(
        self, path: Sequence[str], agency_id: int, wanted: Status
    ) -> tuple[int, str, TargetEntry] | None:
        # Root first, then nodes, then the leaf: the contract reports the highest restricted hash in the
        # agency's namespace.
        top = len(path) - 1
        for i in range(top, -1, -1):
            entry = self.targets.get((agency_id, path[i]))
            if entry is not None and entry.status is wanted:
                level = 0 if i == top else (2 if i == 0 else 1)
                return (level, path[i], entry)
        return None

    def iter_timeline(self) -> Iterator[LedgerEvent]:
        """Every governance change, in ledger order."""
        entries: list[LedgerEvent] = list(self.governor_history)
        for holder in (self.scopes, self.agencies, self.signers, self.issuer_keys, self.accreditations):
            for entity in holder.values():
                entries.extend(entity.history)
        seen: set[tuple[int, int]] = set()
        for entry in sorted(entries, key=lambda e: e.position):
            # an event touching two entities (none today) would appear once
            if entry.position not in seen:
                seen.add(entry.position)
                yield entry

    # --- canonical form and digest -----------------------------------------------------------------------

    def canonical_lines(self) -> Iterator[str]:
        """The contract-visible state as sorted text lines: what the state digest covers (addresses in
        lowercase, as scheme `credreg-audit/1` writes them)."""
        yield f"governor|{self.governor.lower()}|{self.pending_governor.lower()}"
        yield f"counts|{len(self.scope_by_index)}|{self.agency_count}|{len(self.signer_by_index)}"
        for scope_id in sorted(self.scopes):
            s = self.scopes[scope_id]
            yield (
                f"scope|{scope_id}|{s.index}|{_text(s.occupation_code)}|{s.level}|{_text(s.title)}|{s.retired_at}"
            )
        for agency_id in sorted(self.agencies):
            g = self.agencies[agency_id]
            yield (
                f"agency|{agency_id}|{_text(g.name)}|{_text(g.registration_code)}|{g.admin.lower()}|"
                f"{int(g.state)}|{g.reason}|{g.cutoff}|{g.document_store.lower()}"
            )
        for address in sorted(self.signers, key=str.lower):
            k = self.signers[address]
            yield (
                f"signer|{address.lower()}|{k.agency_id}|{k.index}|{k.valid_from}|{k.valid_until}|"
                f"{k.compromised_since}"
            )
        for public_key in sorted(self.issuer_keys):
            i = self.issuer_keys[public_key]
            yield f"issuer-key|{public_key}|{i.agency_id}|{i.valid_from}|{i.valid_until}|{i.compromised_since}"
        for key in sorted(self.accreditations):
            c = self.accreditations[key]
            yield f"accreditation|{key[0]}|{key[1]}|{c.scope_index}|{c.valid_from}|{c.valid_until}"
        for (agency_id, root), r in self.roots.sorted_items():
            yield f"root|{agency_id}|{root}|{r.scope_id}|{r.signer.lower()}|{r.issued_at}|{r.valid_until}"
        for (agency_id, target), t in self.targets.sorted_items():
            yield f"target|{agency_id}|{target}|{int(t.status)}|{t.reason}|{t.nonce}|{t.since}|{int(t.by_governor)}"

    def digest(self) -> str:
        return state_digest(self.canonical_lines())

    # --- checkpoints -------------------------------------------------------------------------------------

    def dump(self) -> dict[str, Any]:
        """A JSON-ready form that `load` turns back into an equal state. Records in a SQLite store are not
        in it: `commit` keeps them, and `attach` gets them back."""
        raw: dict[str, Any] = {
            "governor": [self.governor, self.pending_governor, [dump_event(h) for h in self.governor_history]],
            "scopes": [
                [s.scope_id, s.index, s.occupation_code, s.level, s.title, [dump_event(h) for h in s.history],
                 s.retired_at]
                for s in self.scopes.values()
            ],
            "scope_by_index": sorted(self.scope_by_index.items()),
            "agencies": [
                [g.agency_id, g.name, g.registration_code, g.admin, int(g.state), g.reason, g.cutoff,
                 [dump_event(h) for h in g.history], g.document_store]
                for g in self.agencies.values()
            ],
            "agency_count": self.agency_count,
            "agency_by_code": sorted(self.agency_by_code.items()),
            "signers": [_dump_key(k) for k in self.signers.values()],
            "signer_by_index": sorted(self.signer_by_index.items()),
            "issuer_keys": [_dump_key(i) for i in self.issuer_keys.values()],
            "accreditations": [
                [c.agency_id, c.scope_id, c.scope_index, c.valid_from, c.valid_until,
                 [dump_event(h) for h in c.history]]
                for c in self.accreditations.values()
            ],
            "events_by_name": sorted(self.events_by_name.items()),
            "issued": [[a, s, n] for (a, s), n in sorted(self.issued.items())],
            "actions": [[a, act, g, n] for (a, act, g), n in sorted(self.actions.items())],
            "daily": [[d, a, w, n] for (d, a, w), n in sorted(self.daily.items())],
            "findings": [f.model_dump(mode="json") for f in self.findings],
            "finding_counts": sorted(self.finding_counts.items()),
        }  # fmt: skip
        if self.database is None:
            raw["roots"] = [
                [agency_id, root, r.scope_id, r.signer, r.issued_at, r.valid_until, r.block]
                for (agency_id, root), r in self.roots.items()
            ]
            raw["targets"] = [
                [agency_id, target, int(t.status), t.reason, t.nonce, t.since, t.by_governor, t.root, t.changes,
                 t.last_block]
                for (agency_id, target), t in self.targets.items()
            ]  # fmt: skip
        return raw

    @classmethod
    def load(cls, raw: dict[str, Any], records: Path | None = None) -> LedgerState:
        """The state `dump` gave; its roots and targets from `raw`, or from the SQLite store `records`."""
        state = cls()
        gov, pending, history = raw["governor"]
        state.governor, state.pending_governor = gov, pending
        state.governor_history = [load_event(h) for h in history]
        for sid, index, code, level, title, hist, retired_at in raw["scopes"]:
            state.scopes[sid] = ScopeEntry(
                sid, index, code, level, title, [load_event(h) for h in hist], retired_at
            )
        state.scope_by_index = {int(i): s for i, s in raw["scope_by_index"]}
        for aid, name, code, admin, st, reason, cutoff, hist, store in raw["agencies"]:
            state.agencies[aid] = AgencyEntry(
                aid, name, code, admin, AgencyState(st), reason, cutoff, [load_event(h) for h in hist], store
            )
        state.agency_count = int(raw["agency_count"])
        state.agency_by_code = {c: int(a) for c, a in raw["agency_by_code"]}
        state.signers = {k.key: k for k in map(_load_key, raw["signers"])}
        state.signer_by_index = {int(i): a for i, a in raw["signer_by_index"]}
        state.issuer_keys = {k.key: k for k in map(_load_key, raw["issuer_keys"])}
        for aid, sid, index, vf, vu, hist in raw["accreditations"]:
            state.accreditations[(aid, sid)] = AccreditationEntry(
                aid, sid, index, vf, vu, [load_event(h) for h in hist]
            )
        if records is not None:
            state.attach(records)
        else:
            roots = MemoryRoots()
            for aid, root, sid, signer, issued_at, valid_until, block in raw["roots"]:
                roots.put((aid, root), RootEntry(aid, sid, signer, issued_at, valid_until, block))
            targets = MemoryTargets()
            for aid, target, st, reason, nonce, since, by, root, changes, last in raw["targets"]:
                targets.put(
                    (aid, target),
                    TargetEntry(Status(st), reason, nonce, since, bool(by), root, changes, last),
                )
            state.roots, state.targets = roots, targets
        state.events_by_name = Counter(dict(raw["events_by_name"]))
        state.issued = Counter({(a, s): n for a, s, n in raw["issued"]})
        state.actions = Counter({(a, act, bool(g)): n for a, act, g, n in raw["actions"]})
        state.daily = Counter({(int(d), a, w): n for d, a, w, n in raw["daily"]})
        state.findings = [Finding.model_validate(f) for f in raw["findings"]]
        state.finding_counts = Counter(dict(raw["finding_counts"]))
        return state


def _dump_key(k: KeyEntry) -> list[Any]:
    return [k.key, k.agency_id, k.index, k.valid_from, k.valid_until, k.compromised_since,
            [dump_event(h) for h in k.history]]  # fmt: skip


def _load_key(raw: Sequence[Any]) -> KeyEntry:
    key, aid, index, vf, vu, comp, hist = raw
    return KeyEntry(key, aid, vf, vu, comp, [load_event(h) for h in hist], index)


def _text(value: str) -> str:
    # Text fields may hold the separator; JSON quoting keeps the canonical line unambiguous.
    return json.dumps(value, ensure_ascii=False)


_ACTION_NAMES = ("", "revoke", "suspend", "reinstate")

_HANDLERS = {
    "OwnershipTransferStarted": LedgerState._ownership_transfer_started,
    "OwnershipTransferred": LedgerState._ownership_transferred,
    "ScopeDefined": LedgerState._scope_defined,
    "ScopeRetired": LedgerState._scope_retired,
    "AgencyRegistered": LedgerState._agency_registered,
    "AgencyAdminTransferred": LedgerState._agency_admin_transferred,
    "AgencySuspended": LedgerState._agency_suspended,
    "AgencyReinstated": LedgerState._agency_reinstated,
    "AgencyRevoked": LedgerState._agency_revoked,
    "AgencyAccredited": LedgerState._accreditation_changed,
    "AccreditationWithdrawn": LedgerState._accreditation_changed,
    "SignerAdded": LedgerState._key_added,
    "SignerRetired": LedgerState._key_retired,
    "SignerCompromised": LedgerState._key_compromised,
    "IssuerKeyAdded": LedgerState._key_added,
    "IssuerKeyRetired": LedgerState._key_retired,
    "IssuerKeyCompromised": LedgerState._key_compromised,
    "CredentialIssued": LedgerState._credential_issued,
    "CredentialStatusChanged": LedgerState._credential_status_changed,
}

# The fields each handled event must carry (checked against the ABI before a replay starts, so a contract
# change that renames a field stops the audit with a clear message instead of a KeyError mid-ledger).
HANDLED_EVENTS: dict[str, tuple[str, ...]] = {
    "OwnershipTransferStarted": ("previousOwner", "newOwner"),
    "OwnershipTransferred": ("previousOwner", "newOwner"),
    "ScopeDefined": ("scopeId", "scopeIndex", "occupationCode", "level", "title"),
    "ScopeRetired": ("scopeId", "retiredAt"),
    "AgencyRegistered": ("agencyId", "admin", "name", "registrationCode", "documentStore"),
    "AgencyAdminTransferred": ("agencyId", "previousAdmin", "newAdmin", "actor"),
    "AgencySuspended": ("agencyId", "reason"),
    "AgencyReinstated": ("agencyId",),
    "AgencyRevoked": ("agencyId", "cutoff", "reason"),
    "AgencyAccredited": ("agencyId", "scopeId", "validFrom", "validUntil"),
    "AccreditationWithdrawn": ("agencyId", "scopeId", "validFrom", "validUntil"),
    "SignerAdded": ("agencyId", "signer", "signerIndex", "validFrom", "validUntil", "actor"),
    "SignerRetired": ("agencyId", "signer", "validFrom", "validUntil", "actor"),
    "SignerCompromised": ("agencyId", "signer", "since", "actor"),
    "IssuerKeyAdded": ("agencyId", "publicKey", "validFrom", "validUntil", "actor"),
    "IssuerKeyRetired": ("agencyId", "publicKey", "validFrom", "validUntil", "actor"),
    "IssuerKeyCompromised": ("agencyId", "publicKey", "since", "actor"),
    "CredentialIssued": ("root", "agencyId", "signer", "scopeId", "issuedAt", "validUntil"),
    "CredentialStatusChanged": (
        "root", "agencyId", "actor", "target", "action", "reason", "nonce", "byGovernor",
    ),
}  # fmt: skip
