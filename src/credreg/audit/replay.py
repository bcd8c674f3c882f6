"""Replaying the ledger: every event from the deployment block, in order, through the rules into the state.

A replay can stop at any block and resume later, in this process or another one, from a checkpoint file:
the last block processed, the rebuilt state and the running event digest, written atomically (a crash
leaves the previous checkpoint intact). Resuming gives the same state and digest as replaying in one go.

Past `memory_records` roots and status targets, the records move to a SQLite file (`audit.store`), so the
replay's memory stays bounded whatever the ledger's size. Then a checkpoint is two parts: the records and
the rest of the state, committed together in that file (one SQLite transaction), and a small JSON file
naming it.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import sqlite3
import tempfile
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from credreg.audit import invariants
from credreg.audit.digest import Canon, EventChain, final_digest
from credreg.audit.findings import Finding
from credreg.audit.source import LogSource, block_time
from credreg.audit.state import HANDLED_EVENTS, LedgerState
from credreg.audit.store import read_checkpoint
from credreg.chain.codec import ContractCodec, LedgerEvent
from credreg.chain.logs import MAX_WINDOW_BLOCKS
from credreg.chain.manifest import write_atomically
from credreg.errors import ConfigError
from credreg.registry import Registry

CHECKPOINT_FORMAT = "credreg-audit-checkpoint/3"
# Roots and status targets held in memory before they move to disk: about 500 bytes each, so about 50 MB.
MEMORY_RECORDS = 100_000

EventHook = Callable[[LedgerEvent], None]
ProgressHook = Callable[[int, int, int], None]
"""Called after each window with (blocks done, blocks in the replay, events so far)."""


def checkpoint_path(data_dir: Path, registry: Registry) -> Path:
    """Where replays of `registry` save their progress under a data directory: one file per deployment."""
    name = f"checkpoint-{registry.manifest.chain_id}-{registry.address.lower()}.json"
    return data_dir / "audit" / name


def check_abi(decoder: ContractCodec) -> list[str]:
    """Problems that would make the replay misread this ABI (empty when it matches what the audit applies)."""
    problems: list[str] = []
    for name, fields in HANDLED_EVENTS.items():
        try:
            have = tuple(arg for arg, _ in decoder.fields_of(name))
        except KeyError:
            problems.append(f"the ABI has no {name} event")
            continue
        missing = [f for f in fields if f not in have]
        if missing:
            problems.append(f"{name} lacks {', '.join(missing)}")
    return problems


@dataclass
class DigestResult:
    digest: str
    events_digest: str
    state_digest: str
    event_count: int
    through_block: int


class Replayer:
    """Rebuilds the state of one deployment; call `run(to_block)` as often as needed, with rising blocks."""

    def __init__(
        self,
        registry: Registry,
        *,
        window_blocks: int = MAX_WINDOW_BLOCKS,
        use_log_timestamps: bool = True,
        checkpoint: Path | None = None,
        checkpoint_every: float = 10.0,
        memory_records: int = MEMORY_RECORDS,
        records_dir: Path | None = None,
    ) -> None:
        """`memory_records`: roots and targets kept in memory before they move to a SQLite file, in
        `records_dir`, else beside the checkpoint, else in a temporary directory removed with the replayer."""
        if memory_records < 0:
            raise ConfigError(f"the records kept in memory must be 0 or more, not {memory_records}")
        self.registry = registry
        self.decoder = ContractCodec(registry.abi)
        problems = check_abi(self.decoder)
        if problems:
            raise ConfigError(
                "the registry ABI no longer matches what the audit replays: " + "; ".join(problems)
            )
        self.canon = Canon(self.decoder)
        self.source = LogSource(
            registry.w3,
            registry.address,
            self.decoder,
            window_blocks=window_blocks,
            use_log_timestamps=use_log_timestamps,
        )
        self.chain_id = registry.manifest.chain_id
        self.address = registry.address.lower()
        self.deployment_block = registry.manifest.deployment_block
        self.state = LedgerState()
        self.chain = EventChain.start(self.canon, self.chain_id, self.address)
        self.next_block = self.deployment_block
        self.resumed_from: int | None = None
        self.checkpoint = checkpoint
        self.checkpoint_every = checkpoint_every
        self.windows = 0
        self.seconds = 0.0
        self.events_this_run = 0
        self.memory_records = memory_records
        self.records_dir = records_dir
        self._scratch: str | None = None

    @property
    def through_block(self) -> int:
        """The last block replayed (the block before the deployment when nothing was yet)."""
        return self.next_block - 1

    # --- running -----------------------------------------------------------------------------------------

    def run(
        self,
        to_block: int,
        *,
        on_event: EventHook | None = None,
        progress: ProgressHook | None = None,
    ) -> None:
        """Replay every block up to and including `to_block`."""
        if to_block < self.through_block:
            raise ConfigError(
                f"the replay already went through block {self.through_block}; it cannot go back to {to_block} "
                f"(replay from the deployment block instead)"
            )
        started = time.perf_counter()
        first = self.next_block
        total = max(1, to_block - first + 1)
        last_saved = time.monotonic()
        try:
            # A log the ABI cannot decode (UndecodableLog) stops the replay: skipping it would leave it out of
            # the digest, and nothing after it could be trusted.
            for _start, end, events in self.source.windows(first, to_block):
                self.apply(events, end, on_event=on_event)
                if progress is not None:
                    progress(end - first + 1, total, self.chain.count)
                if self.checkpoint is not None and time.monotonic() - last_saved >= self.checkpoint_every:
                    self.save(self.checkpoint)
                    last_saved = time.monotonic()
        finally:
            self.seconds += time.perf_counter() - started
        if self.checkpoint is not None:
            self.save(self.checkpoint)

    def apply(
        self, events: Sequence[LedgerEvent], through_block: int, *, on_event: EventHook | None = None
    ) -> None:
        """Apply one window: `events` (in ledger order, block times filled in), which are every event of the
        blocks up to `through_block` not applied yet. `run` reads the windows from the node; a benchmark may
        feed events it decoded itself."""
        state, chain, rules = self.state, self.chain, invariants.check
        # No reference cycle is made here, so the cyclic collector has nothing to free; left on, it walks the
        # write-back cache's records again and again as new ones arrive. Off for the window (then back as it
        # was), measured on the million-event benchmark: 4.6 CPU-seconds fewer out of 18.6, and no more spent
        # after the window, decoding the next one. The switch is the process's: in the API server, other
        # threads' cycles wait for the window's end (a window of 5,000 events applies in under 0.1 s).
        collecting = gc.isenabled()
        gc.disable()
        clean_paths = invariants.CLEAN_PATHS
        try:
            state.prefetch(events)
            for event in events:
                clean = clean_paths.get(event.name)
                if clean is None or not clean(state, event):
                    for finding in rules(state, event):
                        state.add_finding(finding)
                    if not state.apply(event):
                        state.add_finding(
                            Finding.make(
                                "ledger", "event-not-audited", f"{event.name} has no audit rule", event
                            )
                        )
                if on_event is not None:
                    on_event(event)
            chain.add_all(events)  # the digest depends on the events alone
        finally:
            if collecting:
                gc.enable()
        self.events_this_run += len(events)
        self.next_block = through_block + 1
        self.windows += 1
        if state.database is None and state.records > self.memory_records:
            state.spill(self._new_records_path())

    def _new_records_path(self) -> Path:
        """A fresh file for the records: in the folder asked for, else beside the checkpoint (so that it can
        be resumed), else scratch. A checkpoint names its file wherever it is."""
        token = os.urandom(4).hex()
        stem = self.checkpoint.stem if self.checkpoint is not None else "audit-records"
        if self.records_dir is not None:
            return self.records_dir / f"{stem}.{token}.sqlite"
        if self.checkpoint is not None:
            return self.checkpoint.with_name(f"{stem}.{token}.sqlite")
        if self._scratch is None:
            self._scratch = tempfile.mkdtemp(prefix="credreg-audit-")
            weakref.finalize(self, shutil.rmtree, self._scratch, True)
        return Path(self._scratch) / f"records.{token}.sqlite"

    def close(self) -> None:
        """Let go of the records' file (a scratch one is removed); the replayer is not used after this."""
        self.state.close()
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    # --- results -----------------------------------------------------------------------------------------

    def digest(self) -> DigestResult:
        state_hex = self.state.digest()
        return DigestResult(
            digest=final_digest(self.chain.hex, state_hex, self.through_block, self.chain.count),
            events_digest=self.chain.hex,
            state_digest=state_hex,
            event_count=self.chain.count,
            through_block=self.through_block,
        )

    def through_time(self) -> int:
        return block_time(self.registry.w3, max(self.through_block, 0))

    @property
    def findings(self) -> list[Finding]:
        return self.state.findings

    # --- checkpoints -------------------------------------------------------------------------------------

    def _identity(self) -> dict[str, Any]:
        return {
            "format": CHECKPOINT_FORMAT,
            "chain_id": self.chain_id,
            "address": self.address,
            "deployment_block": self.deployment_block,
        }

    def save(self, path: Path) -> None:
        """Write the checkpoint atomically: the previous one stays whole until the new one replaces it.

        With the records on disk, they and the rest of the state are committed in their file first (one
        SQLite transaction), then the JSON file naming that file is replaced."""
        position = {
            "through_block": self.through_block,
            "event_chain": {"head": self.chain.hex, "count": self.chain.count},
        }
        state = self.state
        if state.database_path is None:
            payload = {**self._identity(), **position, "state_digest": state.digest(), "state": state.dump()}
            write_atomically(path, json.dumps(payload, separators=(",", ":"), ensure_ascii=False))
            return
        kept = {**position, "records": [len(state.roots), len(state.targets)], "state": state.dump()}
        state.commit(json.dumps(kept, separators=(",", ":"), ensure_ascii=False))
        records = state.database_path
        name = records.name if records.parent.resolve() == path.parent.resolve() else str(records.resolve())
        pointer = {**self._identity(), **position, "records": name}
        write_atomically(path, json.dumps(pointer, separators=(",", ":"), ensure_ascii=False))
        # Record files of earlier replays saved under this checkpoint are no longer named by it.
        for folder in {path.parent.resolve(), records.parent.resolve()}:
            for old in folder.glob(f"{path.stem}.*.sqlite*"):
                if old.name != records.name and old.name != records.name + "-journal":
                    old.unlink(missing_ok=True)

    def resume(self, path: Path) -> None:
        """Continue from the checkpoint at `path`; refuses one from another deployment or a damaged one.

        Records on disk are used in place when `path` is this replayer's own checkpoint, else copied (so
        that the checkpoint resumed from stays as it was)."""
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"no audit checkpoint at {path}") from exc
        except (OSError, ValueError) as exc:
            raise ConfigError(f"the audit checkpoint {path} cannot be read: {exc}") from exc
        if not isinstance(raw, dict) or raw.get("format") != CHECKPOINT_FORMAT:
            raise ConfigError(
                f"{path} is not a credreg audit checkpoint ({CHECKPOINT_FORMAT}); replay from the deployment block"
            )
        mine = (self.chain_id, self.address, self.deployment_block)
        theirs = (raw.get("chain_id"), str(raw.get("address", "")).lower(), raw.get("deployment_block"))
        if mine != theirs:
            raise ConfigError(
                f"the audit checkpoint {path} is for registry {theirs[1]} on chain {theirs[0]} "
                f"(deployed at block {theirs[2]}), not {mine[1]} on chain {mine[0]} (block {mine[2]})"
            )
        try:
            if "records" in raw:
                state, raw = self._resume_records(path, Path(str(raw["records"])))
            else:
                state = LedgerState.load(raw["state"])
                if state.digest() != raw.get("state_digest"):
                    raise ConfigError(
                        f"the audit checkpoint {path} is damaged: its state does not match its recorded digest"
                    )
            head = bytes.fromhex(str(raw["event_chain"]["head"])[2:])
            count = int(raw["event_chain"]["count"])
            through = int(raw["through_block"])
        except (KeyError, TypeError, ValueError, sqlite3.Error) as exc:
            raise ConfigError(f"the audit checkpoint {path} is damaged: {exc!r}") from exc
        self.state.close()
        self.state = state
        self.chain = EventChain(self.canon, head, count)
        self.next_block = through + 1
        self.resumed_from = through

    def _resume_records(self, path: Path, named: Path) -> tuple[LedgerState, dict[str, Any]]:
        source = named if named.is_absolute() else path.parent / named
        if not source.is_file():
            raise ConfigError(f"the audit checkpoint {path} names records {source}, which are missing")
        own = self.checkpoint is not None and self.checkpoint.resolve() == path.resolve()
        records = source if own else self._new_records_path()
        if not own:
            records.parent.mkdir(parents=True, exist_ok=True)
            original, copy = sqlite3.connect(source), sqlite3.connect(records)
            try:
                original.backup(copy)
            finally:
                original.close()
                copy.close()
        kept: dict[str, Any] = json.loads(read_checkpoint(records))
        full = LedgerState.load(kept["state"], records=records)
        if [len(full.roots), len(full.targets)] != kept["records"]:
            full.close()
            raise ConfigError(f"the audit checkpoint {path} is damaged: its records do not match their count")
        return full, kept
