"""Roots and status targets on disk: the same report, digest and exports as in memory, and resumable."""

from __future__ import annotations

import dataclasses
import io
import json
import multiprocessing
import os
import signal
import sqlite3
from pathlib import Path

import pytest
from audit_ledger import History

from credreg.audit import store
from credreg.audit.export import write_credentials_csv
from credreg.audit.replay import Replayer
from credreg.audit.report import report_from, write_report_json
from credreg.chain.states import Status, Verdict
from credreg.cli import main
from credreg.errors import ConfigError


def _report(history: History, replayer: Replayer) -> dict[str, object]:
    report = report_from(history.registry, replayer, provenance=False, include_records=True)
    return report.model_dump(mode="json", exclude={"run"})


def _credentials(replayer: Replayer, path: Path) -> bytes:
    write_credentials_csv(path, replayer.state, replayer.through_time())
    return path.read_bytes()


@pytest.mark.parametrize("cache", [store.CACHE_RECORDS, 2], ids=["cache", "tiny-cache"])
def test_records_on_disk_give_the_same_report_digest_and_exports(
    history: History, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cache: int
) -> None:
    # A tiny write-back cache is emptied on nearly every write: reads then go to the file one by one.
    monkeypatch.setattr(store, "CACHE_RECORDS", cache)
    end = history.blocks["end"]
    in_memory = Replayer(history.registry)
    in_memory.run(end)
    on_disk = Replayer(history.registry, window_blocks=3, memory_records=0, records_dir=tmp_path)
    on_disk.run(end)
    assert in_memory.state.database is None
    assert on_disk.state.database_path is not None
    assert on_disk.state.database_path.parent == tmp_path
    assert on_disk.digest() == in_memory.digest()
    assert _report(history, on_disk) == _report(history, in_memory)
    assert _credentials(on_disk, tmp_path / "disk.csv") == _credentials(in_memory, tmp_path / "memory.csv")
    root = history.roots["single_b"]
    assert on_disk.state.verdict(2, root, root, [], 0) == in_memory.state.verdict(2, root, root, [], 0)


def test_records_spill_to_disk_past_the_threshold_only(history: History) -> None:
    replayer = Replayer(history.registry, window_blocks=2, memory_records=5)
    first_window = history.registry.manifest.deployment_block + 1
    replayer.run(first_window)
    assert replayer.state.database is None  # a few records: still in memory
    replayer.run(history.blocks["end"])
    assert replayer.state.database_path is not None
    scratch = replayer.state.database_path.parent
    assert scratch.is_dir()
    replayer.close()
    assert not scratch.exists()  # a scratch store goes with its replayer


def test_a_replay_on_disk_that_crashed_resumes_from_its_last_checkpoint(
    history: History, tmp_path: Path
) -> None:
    end, middle = history.blocks["end"], history.blocks["revoke_leaf"]
    whole = Replayer(history.registry)
    whole.run(end)
    checkpoint = tmp_path / "checkpoint.json"
    crashing = Replayer(history.registry, window_blocks=3, memory_records=0, checkpoint=checkpoint)
    crashing.run(middle)
    pointer = json.loads(checkpoint.read_text())
    assert "state" not in pointer
    assert (tmp_path / pointer["records"]).is_file()
    # More windows applied but never saved, then the process dies: its work since the checkpoint is lost.
    crashing.checkpoint = None
    crashing.run(end)
    crashing.state.close()

    elsewhere = Replayer(history.registry, records_dir=tmp_path / "copy")
    elsewhere.resume(checkpoint)  # not its own checkpoint: the records are copied, the checkpoint kept as is
    assert elsewhere.through_block == middle
    elsewhere.run(end)
    assert elsewhere.digest() == whole.digest()

    owner = Replayer(history.registry, memory_records=0, checkpoint=checkpoint)
    owner.resume(checkpoint)
    assert owner.through_block == middle
    owner.run(end)
    assert owner.digest() == whole.digest()
    assert json.loads(checkpoint.read_text())["through_block"] == end
    assert sorted(p.name for p in tmp_path.glob("checkpoint.*.sqlite")) == [pointer["records"]]


def _replay_then_die(history: History, checkpoint: Path, middle: int, end: int) -> None:
    """In a child process: replay to `middle` and save, go on to `end` unsaved, then be killed outright."""
    # A page cache of a few pages makes SQLite write the uncommitted records into the file before the kill.
    store.PAGE_CACHE_KIB = 1
    replayer = Replayer(history.registry, window_blocks=3, memory_records=0, checkpoint=checkpoint)
    replayer.run(middle)
    replayer.checkpoint = None
    replayer.run(end)
    for records in (replayer.state.roots, replayer.state.targets):
        assert isinstance(records, store.SqliteRecords)
        records.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_replay_on_disk_killed_mid_transaction_resumes_from_its_last_checkpoint(
    history: History, tmp_path: Path
) -> None:
    end, middle = history.blocks["end"], history.blocks["revoke_leaf"]
    whole = Replayer(history.registry)
    whole.run(end)
    checkpoint = tmp_path / "checkpoint.json"
    child = multiprocessing.get_context("fork").Process(
        target=_replay_then_die, args=(history, checkpoint, middle, end)
    )
    child.start()
    child.join(120)
    assert child.exitcode == -signal.SIGKILL
    records = tmp_path / json.loads(checkpoint.read_text())["records"]
    # The kill left records written into the file uncommitted, with their journal: SQLite rolls them back.
    assert Path(f"{records}-journal").stat().st_size > 0
    resumed = Replayer(history.registry, memory_records=0, checkpoint=checkpoint)
    resumed.resume(checkpoint)
    assert resumed.through_block == middle
    resumed.run(end)
    assert resumed.digest() == whole.digest()


def test_damaged_records_on_disk_are_refused(history: History, tmp_path: Path) -> None:
    checkpoint = tmp_path / "checkpoint.json"
    replayer = Replayer(history.registry, memory_records=0, checkpoint=checkpoint)
    replayer.run(history.blocks["end"])
    replayer.close()
    records = tmp_path / json.loads(checkpoint.read_text())["records"]
    with sqlite3.connect(records) as db:
        db.execute("DELETE FROM roots WHERE k = (SELECT min(k) FROM roots)")
    with pytest.raises(ConfigError, match="records do not match their count"):
        Replayer(history.registry).resume(checkpoint)
    records.unlink()
    with pytest.raises(ConfigError, match="which are missing"):
        Replayer(history.registry).resume(checkpoint)


def _root_entries(count: int, *, agencies: int, step: int) -> dict[tuple[int, str], store.RootEntry]:
    """`count` root records, spread over `agencies`, their roots `step` apart: keys out of order."""
    return {
        (n % agencies + 1, "0x" + f"{n * step:064x}"): store.RootEntry(
            n % agencies + 1, "0x" + "ab" * 32, f"0x{n:040x}", n, 0, n
        )
        for n in range(count)
    }


def test_the_store_finds_every_record_it_wrote_after_a_commit_and_reopening(tmp_path: Path) -> None:
    path = tmp_path / "records.sqlite"
    database = store.open_database(path)
    roots = store.SqliteRecords(database, store.ROOTS, store.Names(database), cache_records=10)
    written = _root_entries(200, agencies=3, step=7919)
    for key, entry in written.items():
        assert roots.get(key) is None
        roots.put(key, entry)
    roots.flush()
    roots.save_filter()
    database.execute("COMMIT")
    database.close()

    database = store.open_database(path)
    again = store.SqliteRecords(database, store.ROOTS, store.Names(database))
    assert len(again) == len(written)
    assert dict(again.items()) == written
    assert [key for key, _ in again.sorted_items()] == sorted(written)
    again.prefetch([*written, (9, "0x" + "ee" * 32)])
    assert all(again.get(key) == entry for key, entry in written.items())
    assert (9, "0x" + "ee" * 32) not in again
    database.close()


def test_a_key_filter_of_another_scheme_is_rebuilt_from_the_keys_and_replaced(tmp_path: Path) -> None:
    # A file whose filter was saved under another scheme's name (a file of an earlier release) must not be
    # read with this one's probes: all zeros, it would call every stored root absent and let it be added twice.
    path = tmp_path / "records.sqlite"
    database = store.open_database(path)
    roots = store.SqliteRecords(database, store.ROOTS, store.Names(database), cache_records=10)
    written = _root_entries(50, agencies=2, step=104723)
    for key, entry in written.items():
        assert roots.add_absent(key, entry)
    roots.flush()
    roots.save_filter()
    database.execute("UPDATE filters SET name = 'roots', bits = zeroblob(length(bits))")
    database.execute("COMMIT")
    database.close()

    database = store.open_database(path)
    again = store.SqliteRecords(database, store.ROOTS, store.Names(database))
    assert all(again.filter.may_hold(key) for key in written)
    first = next(iter(written))
    assert not again.add_absent(first, store.RootEntry(9, "0x" + "cd" * 32, "0x" + "00" * 20, 1, 0, 1))
    assert again.get(first) == written[first]
    assert len(again) == len(written)
    again.save_filter()
    assert [name for (name,) in database.execute("SELECT name FROM filters")] == [
        "roots" + store.FILTER_SCHEME
    ]
    database.close()


def test_packed_records_keep_every_field_and_list_by_block_past_the_names_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Past MAX_NAMES distinct strings a root keeps its scope and signer as text in its packed record.
    monkeypatch.setattr(store, "MAX_NAMES", 2)
    database = store.open_database(tmp_path / "records.sqlite")
    names = store.Names(database)
    roots = store.SqliteRecords(database, store.ROOTS, names, cache_records=4)
    targets = store.SqliteRecords(database, store.TARGETS, names, cache_records=4)
    written_roots = {
        (n % 2 + 1, "0x" + f"{n * 104729:064x}"): store.RootEntry(
            n % 2 + 1, "0x" + f"{n % 5:064x}", f"0x{n:040x}", 2**40 - n, n * 3, 1_000 - n
        )
        for n in range(30)
    }
    statuses = list(Status)
    written_targets = {
        (7, "0x" + f"{n * 31:064x}"): store.TargetEntry(
            statuses[n % 3], n % 65_536, 2**32 - 1 - n, 2**40 - 1, n % 2 == 0, "0x" + f"{n:064x}", n, 500 - n
        )
        for n in range(30)
    }
    for key, root in written_roots.items():
        roots.put(key, root)
    for key, target in written_targets.items():
        targets.put(key, target)
    roots.flush()
    targets.flush()
    assert dict(roots.items()) == written_roots
    assert dict(targets.items()) == written_targets
    assert [e.block for _, e in roots.by_block()] == sorted(e.block for e in written_roots.values())
    assert [k for k, _ in targets.by_block()] == sorted(
        written_targets, key=lambda k: (written_targets[k].last_block, k)
    )
    database.close()


def test_records_written_many_to_a_statement_are_the_rows_one_at_a_time_would_be(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Chunks of 7 rows: a flush of 40 new records and then of 25 with 10 replaced ends chunks mid-way.
    monkeypatch.setattr(store, "WRITE_CHUNK", 7)
    database = store.open_database(tmp_path / "records.sqlite")
    names = store.Names(database)
    targets = store.SqliteRecords(database, store.TARGETS, names, cache_records=1_000)
    roots = store.SqliteRecords(database, store.ROOTS, names, cache_records=1_000)
    statuses = list(Status)
    expected: dict[tuple[int, str], store.TargetEntry] = {}
    for first, count in ((0, 40), (30, 25)):
        for n in range(first, first + count):
            key = (n % 4 + 1, "0x" + f"{n * 6007:064x}")
            expected[key] = store.TargetEntry(
                statuses[(n + first) % 3],
                n,
                first + n,
                2**40 - n,
                n % 2 == 1,
                "0x" + f"{n:064x}",
                first + 1,
                n,
            )
            targets.put(key, expected[key])
        targets.flush()
    for n in range(20):
        roots.put((1, "0x" + f"{n:064x}"), store.RootEntry(1, "0x" + "cd" * 32, f"0x{n % 3:040x}", n, 0, n))
    roots.flush()
    assert len(targets) == 55
    stored = database.execute("SELECT k, v FROM targets ORDER BY k").fetchall()
    assert stored == sorted((store.key_bytes(k), store.TARGETS.pack(e, names)) for k, e in expected.items())
    assert database.execute("SELECT count(*) FROM roots").fetchone() == (20,)
    assert [e.issued_at for _, e in roots.sorted_items()] == list(range(20))
    database.close()


def test_new_roots_and_targets_kept_as_rows_are_the_records_their_entries_would_be(tmp_path: Path) -> None:
    # SqliteRoots.add_root and SqliteTargets.add_target keep a new record as the row the file stores; the
    # same records `put` as entries into another file must give the same answers and the same bytes.
    as_rows, as_entries = (store.open_database(tmp_path / f"{n}.sqlite") for n in ("rows", "entries"))
    rows_names, entries_names = store.Names(as_rows), store.Names(as_entries)
    roots = store.SqliteRoots(as_rows, rows_names, cache_records=1_000)
    targets = store.SqliteTargets(as_rows, rows_names, cache_records=1_000)
    plain_roots = store.SqliteRecords(as_entries, store.ROOTS, entries_names, cache_records=1_000)
    plain_targets = store.SqliteRecords(as_entries, store.TARGETS, entries_names, cache_records=1_000)
    written = _root_entries(40, agencies=3, step=7919)
    for (agency_id, root), entry in written.items():
        assert roots.add_root(
            (agency_id, root), entry.scope_id, entry.signer, entry.issued_at, entry.valid_until, entry.block
        )
        plain_roots.put((agency_id, root), entry)
    statuses = list(Status)
    first_changes = {
        (n % 3 + 1, "0x" + f"{n * 104729:064x}"): store.TargetEntry(
            statuses[n % 3], n, 1, 2**40 - n, n % 2 == 0, "0x" + f"{n:064x}", 1, 900 + n
        )
        for n in range(30)
    }
    for key, t in first_changes.items():
        targets.add_target(key, t.status, t.reason, t.nonce, t.since, t.by_governor, t.root, t.last_block)
        plain_targets.put(key, t)
    # Asked for before the flush: the row is made the entry it stands for.
    assert all(roots.get(key) == entry for key, entry in written.items())
    assert all(targets.get(key) == entry for key, entry in first_changes.items())
    first = next(iter(written))
    assert not roots.add_root(first, "0x" + "cd" * 32, "0x" + "00" * 20, 1, 0, 1)  # written once
    assert roots.get(first) == written[first]
    # A later change of a target kept as a row: its entry, changed and put back, is what is written.
    changed = next(iter(first_changes))
    entry = targets.get(changed)
    assert entry is not None
    entry.nonce, entry.changes, entry.last_block = 2, 2, 2_000
    targets.put(changed, entry)
    plain_targets.put(
        changed, dataclasses.replace(first_changes[changed], nonce=2, changes=2, last_block=2_000)
    )
    for records in (roots, targets, plain_roots, plain_targets):
        records.flush()
    for table in ("roots", "targets"):
        query = f"SELECT k, v FROM {table} ORDER BY k"  # noqa: S608 - one of two table names
        assert as_rows.execute(query).fetchall() == as_entries.execute(query).fetchall()
    assert len(roots) == len(written)
    assert len(targets) == len(first_changes)
    as_rows.close()
    as_entries.close()


def test_roots_kept_as_rows_then_changed_give_the_verdicts_of_a_replay_in_memory(
    history: History, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A write-back cache of 2 records: the roots and targets kept as rows are written and emptied from the
    # cache nearly at once, then read back (as rows) for the status changes that name them.
    monkeypatch.setattr(store, "CACHE_RECORDS", 2)
    end = history.blocks["end"]
    in_memory = Replayer(history.registry)
    in_memory.run(end)
    on_disk = Replayer(history.registry, window_blocks=2, memory_records=0, records_dir=tmp_path)
    on_disk.run(end)
    assert isinstance(on_disk.state.roots, store.SqliteRoots)
    assert on_disk.digest() == in_memory.digest()
    assert on_disk.state.findings == in_memory.state.findings
    batch = history.batch
    asked = [(root, root, []) for root in history.roots.values()]
    asked += [(batch.root, leaf, batch.proof(leaf)) for leaf in batch.leaves]
    asked += [(batch.root, node, batch.node_proof(node)) for node in batch.nodes]
    moments = [history.times["before_leaf_revoked"], history.times["before_b_revoked"], 2**40 - 1]
    verdicts = set()
    for agency_id in sorted(in_memory.state.agencies):
        for root, leaf, proof in asked:
            for moment in moments:
                expected = in_memory.state.verdict(agency_id, root, leaf, proof, moment)
                assert on_disk.state.verdict(agency_id, root, leaf, proof, moment) == expected
                verdicts.add(expected.verdict)
    # Revoked, suspended and plainly valid records among them: the changed rows were read back.
    assert {Verdict.VALID, Verdict.ROOT_REVOKED, Verdict.LEAF_REVOKED, Verdict.NODE_SUSPENDED} <= verdicts


def test_the_json_report_streams_every_record_from_the_store(history: History, tmp_path: Path) -> None:
    on_disk = Replayer(history.registry, window_blocks=3, memory_records=0, records_dir=tmp_path)
    on_disk.run(history.blocks["end"])
    assert on_disk.state.database is not None
    listed = report_from(history.registry, on_disk, provenance=False, include_records=True)
    counted = report_from(history.registry, on_disk, provenance=False)
    assert counted.roots is None
    assert counted.targets is None
    assert counted.totals == listed.totals
    assert counted.agencies == listed.agencies
    streamed, plain = io.StringIO(), io.StringIO()
    write_report_json(counted, streamed, on_disk.state)
    write_report_json(counted, plain)
    expected = listed.model_dump(mode="json", exclude={"run"})
    got = json.loads(streamed.getvalue())
    assert got["run"]["generated_at"] == counted.model_dump(mode="json")["run"]["generated_at"]
    assert {k: v for k, v in got.items() if k != "run"} == expected
    assert len(got["roots"]) == len(on_disk.state.roots) > 0
    assert len(got["targets"]) == len(on_disk.state.targets) > 0
    assert json.loads(plain.getvalue())["roots"] is None


def test_the_cli_puts_the_records_where_asked_past_the_threshold_asked(
    history: History, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--data-dir", str(tmp_path / "data"), "--rpc-url", history.chain.url]
    history.registry.manifest.save(tmp_path / "data" / "deployment.json")
    work, out = tmp_path / "work", tmp_path / "r.json"
    args = ["audit", "replay", "--no-recompile", "--no-provenance", "--records", "--json", str(out)]
    assert main([*base, *args, "--records-in-memory", "0", "--work-dir", str(work)]) == 0
    files = list(work.glob("*.sqlite"))
    assert len(files) == 1
    checkpoint = next((tmp_path / "data" / "audit").glob("checkpoint-*.json"))
    assert json.loads(checkpoint.read_text())["records"] == str(files[0].resolve())
    report = json.loads(out.read_text(encoding="utf-8"))
    in_memory = Replayer(history.registry)
    in_memory.run(report["through_block"])
    assert report["digest"]["digest"] == in_memory.digest().digest
    assert len(report["roots"]) == len(in_memory.state.roots)
    assert not list(out.parent.glob("*.partial"))


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--records-in-memory", "-1", "must be 0 or more, not -1"),
        ("--records-in-memory", "many", "valid integer"),
        ("--work-dir", "a-file", "is not a folder"),
    ],
)
def test_the_cli_refuses_a_bad_records_option_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, value: str, message: str
) -> None:
    (tmp_path / "a-file").write_text("")
    if value == "a-file":
        value = str(tmp_path / "a-file")
    code = main(["--data-dir", str(tmp_path), "audit", "replay", option, value])
    text = " ".join(capsys.readouterr().err.split())
    assert code == 2, text
    assert option in text
    assert message in text
