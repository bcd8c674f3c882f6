"""`credreg issue` of a batch issued before, asking for a form it lacks, and `credreg issue --dry-run`.

A batch issued with a file per certificate gets its archive from those files when `--archive` is asked
later, and a batch issued as an archive alone gets its files from the archive: the same bytes, recorded in
the summary, and nothing sent to the ledger again. A dry run goes through the first pass (salting, hashing,
the tree) and says the root it computed, leaving nothing on disk and sending nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from lifecycle_support import Cli, World, sample_results, set_up_registry
from test_issuance_streaming import KILLER

from credreg.chain.devchain import ephemeral_chain
from credreg.issuance import JOURNAL_DIR
from credreg.verify import Outcome, verify_documents

ROOT = Path(__file__).resolve().parents[2]
COUNT = 12


@dataclass
class Desk:
    world: World
    cli: Cli
    workdir: Path

    def issue(self, results: Path, out: str, *more: str) -> str:
        return self.cli.ok("issue", "--yes", str(results), "--out", out, "--dev-account", "2", *more).text


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    workdir = tmp_path_factory.mktemp("forms")
    with ephemeral_chain() as chain:
        world = set_up_registry(chain.url)
        world.registry.manifest.save(workdir / "data" / "deployment.json")
        env = {
            "CREDREG_DATA_DIR": str(workdir / "data"),
            "CREDREG_RPC_URL": chain.url,
            "CREDREG_PROJECT_ROOT": str(ROOT),
        }
        yield Desk(world, Cli(workdir, env), workdir)


def _summary(out: Path) -> dict[str, object]:
    (path,) = out.glob("batch-*.json")
    summary: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    return summary


def _files(out: Path, names: object) -> list[bytes]:
    assert isinstance(names, list)
    return [(out / str(name)).read_bytes() for name in names]


def test_an_archive_asked_later_is_written_from_the_files_and_nothing_is_sent(desk: Desk) -> None:
    results = sample_results(desk.workdir / "later.csv", COUNT, prefix="LA", seed=91)
    desk.issue(results, "later")
    out = desk.workdir / "later"
    before = _summary(out)
    assert before["archive"] is None
    head = desk.world.registry.head()

    said = desk.issue(results, "later", "--archive")
    assert "未向账本再发送任何内容" in said.replace(" ", "")  # Chinese wraps anywhere
    assert "nothing was sent to the ledger again; wrote its archive" in said
    assert desk.world.registry.head() == head, "no transaction"
    after = _summary(out)
    archive = out / str(after["archive"])
    assert archive.name == f"batch-{str(before['root'])[2:18]}.jsonl"
    # The archive is the files' bytes, one a line, in the summary's order; the rest of the summary stays.
    assert archive.read_bytes() == b"".join(_files(out, before["files"]))
    assert {k: v for k, v in after.items() if k != "archive"} == {
        k: v for k, v in before.items() if k != "archive"
    }
    lines = archive.read_bytes().splitlines()
    assert {r.verdict for r in verify_documents(desk.world.registry, lines)} == {Outcome.VALID}
    again = desk.issue(results, "later", "--archive")
    assert f"already issued: this file is batch {before['root']}" in again
    assert len(desk.world.issued_events(str(before["root"]))) == 1


def test_files_asked_later_are_written_from_the_archive_under_the_names_an_issue_gives(desk: Desk) -> None:
    results = sample_results(desk.workdir / "files.csv", COUNT, prefix="FL", seed=92)
    text = results.read_text(encoding="utf-8").splitlines()
    number = text[0].split(",").index("certificate_number")
    rows = [line.split(",") for line in text[1:]]
    rows[3][number], rows[4][number] = "FL/1", "FL:1"  # both would be FL_1.json
    results.write_text("\n".join([text[0], *(",".join(r) for r in rows)]) + "\n", encoding="utf-8")
    desk.issue(results, "only-archive", "--no-files", "--archive")
    out = desk.workdir / "only-archive"
    before = _summary(out)
    assert before["files"] == []
    head = desk.world.registry.head()

    said = desk.issue(results, "only-archive")
    assert "wrote its document files from the batch's own documents" in said
    assert desk.world.registry.head() == head
    after = _summary(out)
    names = after["files"]
    assert isinstance(names, list)
    assert len(names) == COUNT
    assert "FL_1.json" in names
    assert any(str(n).startswith("FL_1-") for n in names), "the later of two clashing names is suffixed"
    archive = out / str(before["archive"])
    assert b"".join(_files(out, names)) == archive.read_bytes()
    assert sorted(names) == sorted(p.name for p in out.glob("FL*.json"))
    assert after["leaves"] == before["leaves"]
    assert not list(out.glob(".*.files")), "no temporary file is left"


def test_a_changed_document_stops_the_archive_and_leaves_the_batch_as_it_was(desk: Desk) -> None:
    results = sample_results(desk.workdir / "changed.csv", COUNT, prefix="CH", seed=93)
    desk.issue(results, "changed")
    out = desk.workdir / "changed"
    before = (next(out.glob("batch-*.json"))).read_bytes()
    names = _summary(out)["files"]
    assert isinstance(names, list)
    victim = out / str(names[5])
    document = json.loads(victim.read_bytes())
    document["data"]["recipient"]["name"] += "x"
    other = json.loads((out / str(names[6])).read_bytes())
    document["signature"] = other["signature"]  # a valid-looking document of the batch, in the wrong place
    victim.write_text(json.dumps(document) + "\n", encoding="utf-8")
    refused = desk.cli.fails(
        2, "issue", "--yes", str(results), "--out", "changed", "--dev-account", "2", "--archive"
    )
    assert victim.name in refused.text
    assert "target hash" in refused.text
    assert next(out.glob("batch-*.json")).read_bytes() == before
    assert not list(out.glob("*.jsonl"))
    assert not list(out.glob(".*.part"))


def test_a_dry_run_salts_and_hashes_the_batch_and_leaves_nothing_behind(desk: Desk) -> None:
    results = sample_results(desk.workdir / "dry.csv", COUNT, prefix="DR", seed=94)
    head = desk.world.registry.head()
    roots = []
    for _ in range(2):
        shown = desk.cli.ok("issue", str(results), "--out", "dry", "--dry-run", "--dev-account", "2").text
        assert "about to issue" in shown
        assert f"read, checked, salted and hashed {COUNT} certificates" in shown
        assert "试运行：已读取、校验并加盐哈希" in shown.replace(" ", "")
        assert "nothing was written, and nothing was sent" in shown
        roots.append(shown.split("root is ")[1][:66])
    assert all(len(r) == 66 and r.startswith("0x") for r in roots)
    assert roots[0] != roots[1], "every run salts afresh"
    assert not (desk.workdir / "dry").exists()
    assert not list((desk.workdir / "data").glob("batches/*")) or all(
        "dry" not in p.read_text(encoding="utf-8") for p in (desk.workdir / "data").glob("batches/*")
    )
    assert desk.world.registry.head() == head

    # A broken file is refused as the real issue refuses it: by the same first pass.
    broken = desk.workdir / "dry-broken.csv"
    lines = results.read_text(encoding="utf-8").splitlines()
    broken.write_text("\n".join([*lines, lines[-1]]) + "\n", encoding="utf-8")
    refused = desk.cli.fails(2, "issue", str(broken), "--out", "dry", "--dry-run", "--dev-account", "2")
    real = desk.cli.fails(2, "issue", "--yes", str(broken), "--out", "dry", "--dev-account", "2")
    assert "the same certificate number is also on row" in refused.text
    assert refused.text.strip().splitlines()[-3:] == real.text.strip().splitlines()[-3:]
    assert not (desk.workdir / "dry").exists()

    # Once issued, a dry run names the batch's root and what a real run would still write.
    desk.issue(results, "dry")
    root = str(_summary(desk.workdir / "dry")["root"])
    shown = desk.cli.ok(
        "issue", str(results), "--out", "dry", "--dry-run", "--dev-account", "2", "--archive"
    ).text
    assert f"this file is batch {root}, issued before ({COUNT} certificates)" in shown
    assert "it only writes its archive" in shown
    assert not list((desk.workdir / "dry").glob("*.jsonl"))


def test_a_killed_archive_writing_is_finished_by_the_same_command(desk: Desk) -> None:
    results = sample_results(desk.workdir / "killed.csv", COUNT, prefix="KA", seed=95)
    desk.issue(results, "killed")
    out = desk.workdir / "killed"
    before = _summary(out)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("CREDREG_")}, **desk.cli.env}
    args = ["issue", "--yes", str(results), "--out", "killed", "--dev-account", "2", "--archive"]
    killed = subprocess.run(
        [sys.executable, "-c", KILLER, "adding the archive", "5", *args],
        cwd=desk.workdir, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert killed.returncode == -9, killed.stderr
    assert _summary(out) == before, "the summary names no archive until it is whole"
    assert not list(out.glob("*.jsonl"))
    desk.issue(results, "killed", "--archive")
    after = _summary(out)
    assert (out / str(after["archive"])).read_bytes() == b"".join(_files(out, before["files"]))
    assert not list(out.glob(".*.part"))
    assert not list((out / JOURNAL_DIR).glob("*"))


def test_files_created_by_a_worker_process_are_the_archive_lines(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    from credreg import issuance

    monkeypatch.setattr(issuance, "WORKER_FROM", 0)  # any batch: its files come from a child process
    monkeypatch.setattr(issuance, "_PIPE_CHUNK", 4096)  # a few documents a write, records cut anywhere
    results = sample_results(desk.workdir / "worker.csv", COUNT, prefix="WK", seed=96)
    desk.issue(results, "worker", "--archive")
    out = desk.workdir / "worker"
    summary = _summary(out)
    archive = (out / str(summary["archive"])).read_bytes()
    assert b"".join(_files(out, summary["files"])) == archive
    assert sorted(p.name for p in out.glob("WK*.json")) == sorted(map(str, summary["files"]))  # type: ignore[call-overload]
    lines = archive.splitlines()
    assert {r.verdict for r in verify_documents(desk.world.registry, lines)} == {Outcome.VALID}


WITH_WORKER = """
import sys
from credreg import issuance
from credreg.cli import main
issuance.WORKER_FROM = 0
sys.exit(main(sys.argv[1:]))
"""


def test_a_worker_that_cannot_write_stops_the_batch_with_its_error(desk: Desk) -> None:
    results = sample_results(desk.workdir / "blocked.csv", COUNT, prefix="BK", seed=97)
    out = desk.workdir / "blocked"
    out.mkdir()
    header, first = results.read_text(encoding="utf-8").splitlines()[:2]
    number = first.split(",")[header.split(",").index("certificate_number")]
    (out / f"{number}.json").mkdir()  # the first certificate's file name is taken by a directory
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("CREDREG_")}, **desk.cli.env}
    args = ["issue", "--yes", str(results), "--out", "blocked", "--dev-account", "2"]
    ran = subprocess.run(
        [sys.executable, "-c", WITH_WORKER, *args],
        cwd=desk.workdir, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    said = " ".join((ran.stdout + ran.stderr).split())
    assert ran.returncode == 2, said
    assert "writing its documents" in said
    assert "Is a directory" in said
    assert not list(out.glob("batch-*.json")), "no summary: the batch is not complete"
    (out / f"{number}.json").rmdir()
    desk.issue(results, "blocked", "--archive")  # the same command finishes it
    summary = _summary(out)
    assert b"".join(_files(out, summary["files"])) == (out / str(summary["archive"])).read_bytes()


# --- the first pass in two halves ------------------------------------------------------------------------


def test_a_file_read_in_two_halves_gives_the_documents_in_the_files_order(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    from credreg import issuance

    halves: list[object] = []
    real = issuance._first_pass_in_two

    def counted(*args: object, **kwargs: object) -> object:
        halves.append(got := real(*args, **kwargs))  # type: ignore[arg-type]
        return got

    monkeypatch.setattr(issuance, "SPLIT_FROM_BYTES", 0)
    monkeypatch.setattr(issuance, "_first_pass_in_two", counted)
    results = sample_results(desk.workdir / "halves.csv", 31, prefix="HV", seed=98)
    desk.issue(results, "halves", "--archive")
    assert len(halves) == 1
    assert halves[0] is not None, "the two halves were used, not the pass over the whole file"
    out = desk.workdir / "halves"
    summary = _summary(out)
    header, *rows = results.read_text(encoding="utf-8").splitlines()
    number = header.split(",").index("certificate_number")
    assert summary["files"] == [f"{row.split(',')[number]}.json" for row in rows], "the file's order"
    assert summary["count"] == 31
    archive = (out / str(summary["archive"])).read_bytes()
    assert b"".join(_files(out, summary["files"])) == archive
    lines = archive.splitlines()
    assert {r.verdict for r in verify_documents(desk.world.registry, lines)} == {Outcome.VALID}


@pytest.mark.parametrize("problem", ["repeated number", "mixed sessions", "broken row"])
def test_a_problem_across_the_halves_is_said_as_the_whole_file_says_it(
    desk: Desk, monkeypatch: pytest.MonkeyPatch, problem: str
) -> None:
    from credreg import issuance

    results = sample_results(desk.workdir / f"across-{problem[:6]}.csv", 20, prefix="AX", seed=99)
    header, *rows = results.read_text(encoding="utf-8").splitlines()
    columns = header.split(",")
    last = rows[-1].split(",")
    if problem == "repeated number":  # the first row's number again, in the second half
        last[columns.index("certificate_number")] = rows[0].split(",")[columns.index("certificate_number")]
    elif problem == "mixed sessions":
        last[columns.index("valid_until")] = "2035-06-30"
    else:
        last[columns.index("holder_id_type")] = "not a type"
    results.write_text("\n".join([header, *rows[:-1], ",".join(last)]) + "\n", encoding="utf-8")
    out = f"across-{problem[:6]}"
    whole = desk.cli.fails(2, "issue", "--yes", str(results), "--out", out, "--dev-account", "2").text
    monkeypatch.setattr(issuance, "SPLIT_FROM_BYTES", 0)
    halves = desk.cli.fails(2, "issue", "--yes", str(results), "--out", out, "--dev-account", "2").text
    assert halves == whole
    assert not (desk.workdir / out).exists(), "nothing is left of a first pass that failed"
