"""Replaying the ledger: every event from the deployment block, in order, through the rules into the state.

A replay can stop at any block and resume later, in this process or another one, from a checkpoint file:
the last block processed, the rebuilt state and the running event digest, written atomically (a crash
leaves the previous checkpoint intact). Resuming gives the same state and digest as replaying in one go.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from credreg.audit import invariants
from credreg.audit.digest import Canon, EventChain, final_digest
from credreg.audit.findings import Finding
from credreg.audit.source import AuditEvent, FastDecoder, LogSource, block_time
from credreg.audit.state import HANDLED_EVENTS, LedgerState
from credreg.chain.logs import MAX_WINDOW_BLOCKS
from credreg.chain.manifest import write_atomically
from credreg.errors import ConfigError
from credreg.registry import Registry

CHECKPOINT_FORMAT = "credreg-audit-checkpoint/1"

EventHook = Callable[[AuditEvent], None]
ProgressHook = Callable[[int, int, int], None]
"""Called after each window with (blocks done, blocks in the replay, events so far)."""


def checkpoint_path(data_dir: Path, registry: Registry) -> Path:
    """Where replays of `registry` save their progress under a data directory: one file per deployment."""
    name = f"checkpoint-{registry.manifest.chain_id}-{registry.address.lower()}.json"
    return data_dir / "audit" / name


def check_abi(decoder: FastDecoder) -> list[str]:
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
    ) -> None:
        self.registry = registry
        self.decoder = FastDecoder(registry.abi)
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
        state, chain, rules = self.state, self.chain, invariants.check
        try:
            # A log the ABI cannot decode (UndecodableLog) stops the replay: skipping it would leave it out of
            # the digest, and nothing after it could be trusted.
            for _start, end, events in self.source.windows(first, to_block):
                for event in events:
                    for finding in rules(state, event):
                        state.add_finding(finding)
                    if not state.apply(event):
                        state.add_finding(
                            Finding.make(
                                "ledger", "event-not-audited", f"{event.name} has no audit rule", event
                            )
                        )
                    chain.add(event)
                    if on_event is not None:
                        on_event(event)
                self.events_this_run += len(events)
                self.next_block = end + 1
                self.windows += 1
                if progress is not None:
                    progress(end - first + 1, total, chain.count)
                if self.checkpoint is not None and time.monotonic() - last_saved >= self.checkpoint_every:
                    self.save(self.checkpoint)
                    last_saved = time.monotonic()
        finally:
            self.seconds += time.perf_counter() - started
        if self.checkpoint is not None:
            self.save(self.checkpoint)

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

    def save(self, path: Path) -> None:
        """Write the checkpoint atomically: the previous one stays whole until the new one replaces it."""
        payload = {
            "format": CHECKPOINT_FORMAT,
            "chain_id": self.chain_id,
            "address": self.address,
            "deployment_block": self.deployment_block,
            "through_block": self.through_block,
            "event_chain": {"head": self.chain.hex, "count": self.chain.count},
            "state_digest": self.state.digest(),
            "state": self.state.dump(),
        }
        write_atomically(path, json.dumps(payload, separators=(",", ":"), ensure_ascii=False))

    def resume(self, path: Path) -> None:
        """Continue from the checkpoint at `path`; refuses one from another deployment or a damaged one."""
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"no audit checkpoint at {path}") from exc
        except (OSError, ValueError) as exc:
            raise ConfigError(f"the audit checkpoint {path} cannot be read: {exc}") from exc
        if not isinstance(raw, dict) or raw.get("format") != CHECKPOINT_FORMAT:
            raise ConfigError(f"{path} is not a credreg audit checkpoint ({CHECKPOINT_FORMAT})")
        mine = (self.chain_id, self.address, self.deployment_block)
        theirs = (raw.get("chain_id"), str(raw.get("address", "")).lower(), raw.get("deployment_block"))
        if mine != theirs:
            raise ConfigError(
                f"the audit checkpoint {path} is for registry {theirs[1]} on chain {theirs[0]} "
                f"(deployed at block {theirs[2]}), not {mine[1]} on chain {mine[0]} (block {mine[2]})"
            )
        try:
            state = LedgerState.load(raw["state"])
            head = bytes.fromhex(str(raw["event_chain"]["head"])[2:])
            count = int(raw["event_chain"]["count"])
            through = int(raw["through_block"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"the audit checkpoint {path} is damaged: {exc!r}") from exc
        if state.digest() != raw.get("state_digest"):
            raise ConfigError(
                f"the audit checkpoint {path} is damaged: its state does not match its recorded digest"
            )
        self.state = state
        self.chain = EventChain(self.canon, head, count)
        self.next_block = through + 1
        self.resumed_from = through
