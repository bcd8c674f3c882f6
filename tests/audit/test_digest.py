"""The digest: identical across replays and resumed replays, different when any event differs."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from audit_ledger import History

from credreg.audit.digest import Canon, digest_events
from credreg.audit.replay import Replayer
from credreg.audit.source import LogSource
from credreg.audit.state import LedgerState
from credreg.chain.codec import ContractCodec, LedgerEvent
from credreg.errors import ConfigError


def _events(history: History) -> list[LedgerEvent]:
    registry = history.registry
    source = LogSource(registry.w3, registry.address, ContractCodec(registry.abi))
    return [
        e
        for _, _, es in source.windows(registry.manifest.deployment_block, history.blocks["end"])
        for e in es
    ]


def _digest(history: History, events: list[LedgerEvent]) -> str:
    canon = Canon(ContractCodec(history.registry.abi))
    return digest_events(canon, events, history.registry.manifest.chain_id, history.registry.address)


def _altered(value: object) -> object:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    assert isinstance(value, str)
    if value.startswith("0x"):
        return value[:-1] + ("0" if value[-1] != "0" else "1")
    return value + "."


def test_two_replays_give_the_same_digest(history: History) -> None:
    first = Replayer(history.registry)
    first.run(history.blocks["end"])
    second = Replayer(history.registry, window_blocks=2, use_log_timestamps=False)
    second.run(history.blocks["end"])
    assert first.digest() == second.digest()
    assert first.digest().event_count == len(_events(history))


def test_a_replay_resumed_half_way_gives_the_same_digest(history: History, tmp_path: Path) -> None:
    end, middle = history.blocks["end"], history.blocks["revoke_leaf"]
    whole = Replayer(history.registry)
    whole.run(end)

    checkpoint = tmp_path / "checkpoint.json"
    first = Replayer(history.registry, window_blocks=3, checkpoint=checkpoint, checkpoint_every=0)
    first.run(middle)
    resumed = Replayer(history.registry, window_blocks=3)
    resumed.resume(checkpoint)
    assert resumed.through_block == middle
    resumed.run(end)
    assert resumed.digest() == whole.digest()
    assert resumed.state.dump() == whole.state.dump()


def test_a_replay_that_crashed_resumes_from_its_last_checkpoint(history: History, tmp_path: Path) -> None:
    whole = Replayer(history.registry)
    whole.run(history.blocks["end"])
    checkpoint = tmp_path / "checkpoint.json"
    crashing = Replayer(history.registry, window_blocks=4, checkpoint=checkpoint, checkpoint_every=0)

    def crash_after_a_few_windows(done: int, total: int, events: int) -> None:
        if crashing.windows == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        crashing.run(history.blocks["end"], progress=crash_after_a_few_windows)
    saved = json.loads(checkpoint.read_text())
    assert 0 < saved["through_block"] < history.blocks["end"]
    resumed = Replayer(history.registry)
    resumed.resume(checkpoint)
    resumed.run(history.blocks["end"])
    assert resumed.digest() == whole.digest()


def test_a_damaged_or_foreign_checkpoint_is_refused(history: History, tmp_path: Path) -> None:
    checkpoint = tmp_path / "checkpoint.json"
    replayer = Replayer(history.registry, checkpoint=checkpoint)
    replayer.run(history.blocks["revoke_leaf"])
    raw = json.loads(checkpoint.read_text())
    raw["state"]["roots"][0][4] += 1  # an issuance time edited by hand
    checkpoint.write_text(json.dumps(raw))
    with pytest.raises(ConfigError, match="does not match its recorded digest"):
        Replayer(history.registry).resume(checkpoint)
    raw["address"] = "0x" + "11" * 20
    checkpoint.write_text(json.dumps(raw))
    with pytest.raises(ConfigError, match="is for registry 0x1111"):
        Replayer(history.registry).resume(checkpoint)
    checkpoint.write_text("{not json")
    with pytest.raises(ConfigError, match="cannot be read"):
        Replayer(history.registry).resume(checkpoint)


def test_changing_any_field_of_any_event_changes_the_digest(history: History) -> None:
    events = _events(history)
    original = _digest(history, events)
    seen: set[str] = set()
    for i, event in enumerate(events):
        fields: dict[str, object] = {
            "block_number": event.block_number, "block_time": event.block_time, "block_hash": event.block_hash,
            "transaction_hash": event.transaction_hash, "transaction_index": event.transaction_index,
            "log_index": event.log_index, "name": event.name + "X",
        }  # fmt: skip
        changes = [
            dataclasses.replace(event, **{k: _altered(v) if k != "name" else v}) for k, v in fields.items()
        ]
        for arg, value in event.args.items():
            changes.append(dataclasses.replace(event, args={**event.args, arg: _altered(value)}))
        for changed in changes:
            assert _digest(history, [*events[:i], changed, *events[i + 1 :]]) != original
        seen.add(event.name)
    # dropping or swapping events changes it too
    assert _digest(history, events[:-1]) != original
    assert _digest(history, [events[1], events[0], *events[2:]]) != original
    assert len(seen) >= 15


def test_text_arguments_cannot_imitate_other_fields(history: History) -> None:
    scope = next(e for e in _events(history) if e.name == "ScopeDefined")
    canon = Canon(ContractCodec(history.registry.abi))
    fake = dataclasses.replace(scope, args={**scope.args, "title": 'x",level=9'})
    assert "level=9," not in canon.line(fake).split("title=")[0]
    assert canon.line(fake).endswith('title="x\\",level=9"')


def test_state_dump_round_trips_to_the_same_digest(history: History) -> None:
    replayer = Replayer(history.registry)
    replayer.run(history.blocks["end"])
    state = replayer.state
    again = LedgerState.load(json.loads(json.dumps(state.dump())))
    assert again.digest() == state.digest()
    assert again.dump() == state.dump()
    state.targets[next(iter(state.targets))].reason += 1
    assert again.digest() != state.digest()
