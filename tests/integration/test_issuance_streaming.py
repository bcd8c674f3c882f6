"""Issuing in two passes: the archive that `verify` and `disclose` read, and resuming after a real kill.

Each crash here is a SIGKILL of a `credreg issue` process at a chosen point (no clean-up runs); the same
command run again must finish the batch under the root the journal names, with every certificate written
exactly once, in its own file and in the archive.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from lifecycle_support import Cli, World, sample_results, set_up_registry

from credreg.chain.devchain import ephemeral_chain
from credreg.issuance import JOURNAL_DIR
from credreg.verify import Outcome, verify_documents

ROOT = Path(__file__).resolve().parents[2]
COUNT = 30


@dataclass
class Setup:
    world: World
    cli: Cli
    workdir: Path

    def issue(self, results: Path, out: str, *more: str) -> str:
        ran = self.cli.ok("issue", "--yes", str(results), "--out", out, "--dev-account", "2", *more)
        return ran.text


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    workdir = tmp_path_factory.mktemp("streaming")
    with ephemeral_chain() as chain:
        world = set_up_registry(chain.url)
        world.registry.manifest.save(workdir / "data" / "deployment.json")
        cli = Cli(
            workdir,
            {
                "CREDREG_DATA_DIR": str(workdir / "data"),
                "CREDREG_RPC_URL": chain.url,
                "CREDREG_PROJECT_ROOT": str(ROOT),
            },
        )
        yield Setup(world, cli, workdir)


def _summary(out: Path) -> dict[str, object]:
    (path,) = out.glob("batch-*.json")
    summary: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    return summary


def _archive_lines(out: Path) -> list[bytes]:
    (path,) = out.glob("batch-*.jsonl")
    return [line for line in path.read_bytes().splitlines() if line.strip()]


def _check_batch(setup: Setup, out: Path, root: str, *, files: bool = True) -> None:
    """Every certificate written once, in its file and in the archive, all valid under `root`."""
    summary = _summary(out)
    assert summary["root"] == root
    assert summary["count"] == COUNT
    leaves = summary["leaves"]
    assert isinstance(leaves, list)
    assert len(set(leaves)) == COUNT
    lines = _archive_lines(out)
    assert len(lines) == COUNT
    assert {"0x" + json.loads(line)["signature"]["targetHash"] for line in lines} == set(leaves)
    if files:
        names = summary["files"]
        assert isinstance(names, list)
        assert sorted(names) == sorted(p.name for p in out.glob("*.json") if not p.name.startswith("batch-"))
        assert len(set(names)) == COUNT
        # A certificate's file and its archive line are the same bytes.
        assert {(out / str(name)).read_bytes().strip() for name in names} == set(lines)
    reports = verify_documents(setup.world.registry, lines)
    assert {r.verdict for r in reports} == {Outcome.VALID}
    assert {json.loads(line)["signature"]["merkleRoot"] for line in lines} == {root[2:]}
    assert len(setup.world.issued_events(root)) == 1
    assert not any((out / JOURNAL_DIR).glob("*")), "the journal is removed once the batch is complete"


def test_the_archive_is_verified_and_disclosed_from_directly(setup: Setup) -> None:
    results = sample_results(setup.workdir / "archive.csv", COUNT, prefix="AR", seed=71)
    said = setup.issue(results, "archive", "--archive")
    out = setup.workdir / "archive"
    root = str(_summary(out)["root"])
    assert f"issued {COUNT} certificate(s) under root {root}" in said
    assert f"batch-{root[2:18]}.jsonl" in said
    _check_batch(setup, out, root)

    archive = next(out.glob("batch-*.jsonl"))
    checked = setup.cli.json("verify", str(archive.relative_to(setup.workdir)))
    assert [r["verdict"] for r in checked] == ["valid"] * COUNT
    assert [r["file"] for r in checked] == [f"archive/{archive.name}:{n}" for n in range(1, COUNT + 1)]

    third = json.loads(_archive_lines(out)[2])
    setup.cli.ok(
        "disclose", str(archive), "--line", "3", "--hide", "recipient.idNumber", "--out", "by-line.json"
    )
    target = "0x" + third["signature"]["targetHash"]
    setup.cli.ok(
        "disclose", str(archive), "--target", target, "--hide", "recipient.name", "--out", "by-hash.json"
    )
    for name, hidden in (("by-line.json", "recipient.idNumber"), ("by-hash.json", "recipient.name")):
        (report,) = setup.cli.json("verify", name)
        assert report["verdict"] == "valid"
        assert report["hidden_fields"] == [hidden]
        disclosed = json.loads((setup.workdir / name).read_text(encoding="utf-8"))
        assert disclosed["signature"]["targetHash"] == third["signature"]["targetHash"]

    refused = setup.cli.fails(2, "disclose", str(archive), "--hide", "recipient.name", "--out", "x.json")
    assert "--target HASH or --line N" in refused.text
    missing = setup.cli.fails(2, "disclose", str(archive), "--line", "99", "--list")
    assert "no document on line 99" in missing.text
    absent = setup.cli.fails(2, "disclose", str(archive), "--target", "0x" + "ab" * 32, "--list")
    assert "no document with target hash" in absent.text


def test_an_archive_alone_writes_no_certificate_files(setup: Setup) -> None:
    results = sample_results(setup.workdir / "only.csv", COUNT, prefix="AO", seed=72)
    setup.issue(results, "only", "--no-files", "--archive")
    out = setup.workdir / "only"
    assert [p.name for p in out.glob("AO*")] == []
    assert _summary(out)["files"] == []
    _check_batch(setup, out, str(_summary(out)["root"]), files=False)
    nothing = setup.cli.fails(
        2, "issue", "--yes", str(results), "--out", "only", "--dev-account", "2", "--no-files"
    )
    assert "--no-files needs --archive" in nothing.text


def _mixed_archive(
    setup: Setup, name: str, *, prefix: str, seed: int, count: int, tamper: tuple[int, int], broken: int
) -> tuple[Path, list[bytes]]:
    """`<name>.jsonl`: `count` lines from a batch of `COUNT` issued as an archive, over and over, the lines
    whose number is `tamper[1]` modulo `tamper[0]` with the holder's name changed, line `broken` (from 0) not
    JSON; and its lines."""
    results = sample_results(setup.workdir / f"{name}.csv", COUNT, prefix=prefix, seed=seed)
    setup.issue(results, name, "--no-files", "--archive")
    issued = _archive_lines(setup.workdir / name)
    lines: list[bytes] = []
    for n in range(count):
        line = issued[n % COUNT]
        if n % tamper[0] == tamper[1]:
            doc = json.loads(line)
            doc["data"]["recipient"]["name"] += "x"
            line = json.dumps(doc).encode()
        lines.append(b"this is not a certificate" if n == broken else line)
    archive = setup.workdir / f"{name}.jsonl"
    archive.write_bytes(b"\n".join(lines) + b"\n")
    return archive, lines


def test_a_long_archive_is_verified_in_batches_with_the_same_verdicts(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Beyond one batch `credreg verify` streams: it reads and verifies a batch at a time, and its verdicts,
    --json array and exit code are those of one `verify_documents` call over every line."""
    from credreg.cli import credential_cmds
    from credreg.documents import archive as archive_module

    # The batch ten times over, every 37th line tampered with, one not JSON.
    long, lines = _mixed_archive(setup, "long", prefix="LB", seed=73, count=310, tamper=(37, 5), broken=200)
    expected = verify_documents(setup.world.registry, lines)
    assert {r.verdict for r in expected} == {Outcome.VALID, Outcome.INVALID, Outcome.ERROR}

    read = [0]
    sizes: list[tuple[int, int]] = []  # (documents in the call, archive lines read when it was made)
    real_lines = archive_module.archive_lines

    def counted_lines(path: Path) -> Iterator[tuple[int, bytes]]:
        for item in real_lines(path):
            read[0] += 1
            yield item

    def spied(registry: object, documents: list[bytes], **kwargs: object) -> object:
        sizes.append((len(documents), read[0]))
        return verify_documents(registry, documents, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(credential_cmds, "VERIFY_BATCH", 40)
    monkeypatch.setattr(archive_module, "archive_lines", counted_lines)
    monkeypatch.setattr("credreg.verify.verify_documents", spied)
    streamed = setup.cli.json("verify", long.name, code=2)
    assert [(r["file"], r["verdict"], r["code"]) for r in streamed] == [
        (f"long.jsonl:{n}", r.verdict.value, r.code) for n, r in enumerate(expected, start=1)
    ]
    assert [size for size, _ in sizes] == [40] * 7 + [30], "eight calls, of at most a batch each"
    assert all(seen <= 41 * (i + 1) for i, (_, seen) in enumerate(sizes)), f"read ahead: {sizes}"

    sizes.clear()
    text = setup.cli.fails(2, "verify", long.name).out
    flagged = [f"long.jsonl:{n}" for n, r in enumerate(expected, start=1) if r.verdict is not Outcome.VALID]
    assert len(flagged) == 10
    said = text.splitlines()
    for name in flagged:  # each in full as it is found, and named again before the tally
        assert sum(line.split(": ")[0].endswith(f" {name}") for line in said) == 2, name
    assert "合计 / total 310: 有效 / valid 300, 无效 / invalid 9, 错误 / errors 1" in said
    assert "ledger block" in said[-1]
    assert len(sizes) == 8

    monkeypatch.setattr(credential_cmds, "VERIFY_BATCH", 10_000)  # one batch: as before, invalid first
    whole = setup.cli.json("verify", long.name, code=2)
    assert [(r["file"], r["verdict"], r["code"]) for r in whole] == [
        (r["file"], r["verdict"], r["code"]) for r in streamed
    ]
    first = setup.cli.fails(2, "verify", long.name).out.splitlines()
    assert first[0].startswith("INVALID long.jsonl:")


def test_a_large_batch_is_verified_by_two_processes_at_one_block(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From `SPLIT_FROM` documents `credreg verify` checks the second half in a forked child: the same
    reports as one process, every verdict read at one block; a child that fails costs time, not verdicts."""
    from credreg.cli import verify_split

    # The batch three times over, every 11th line tampered with, one not JSON.
    archive, _ = _mixed_archive(setup, "split", prefix="SP", seed=74, count=90, tamper=(11, 4), broken=70)

    calls: list[int] = []  # documents per `verify_documents` call in this process (the child's are its own)
    real = verify_split.pickle.dumps

    def spied(registry: object, documents: list[bytes], **kwargs: object) -> object:
        calls.append(len(documents))
        return verify_documents(registry, documents, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("credreg.verify.verify_documents", spied)
    monkeypatch.setattr(verify_split, "SPLIT_FROM", 10)
    alone = setup.cli.json("verify", archive.name, "--jobs", "1", code=2)
    assert calls == [90]

    calls.clear()
    split = setup.cli.json("verify", archive.name, "--jobs", "2", code=2)
    assert calls == [45], "this process verified the first half; its child, the second"
    assert split == alone
    calls.clear()
    assert setup.cli.json("verify", archive.name, "--jobs", "3", code=2) == alone
    assert calls == [30]
    monkeypatch.setattr(verify_split, "SPLIT_FROM", 91)
    calls.clear()
    assert setup.cli.json("verify", archive.name, "--jobs", "2", code=2) == alone
    assert calls == [90], "a batch below SPLIT_FROM: one process"
    monkeypatch.setattr(verify_split, "SPLIT_FROM", 10)
    assert {r["verdict"] for r in split} == {"valid", "invalid", "error"}
    assert len({r["checked_block"] for r in split if r["verdict"] == "valid"}) == 1

    def broken(value: object, protocol: int | None = None) -> bytes:
        raise OSError("the child could not write its answer")

    calls.clear()
    monkeypatch.setattr(verify_split.pickle, "dumps", broken)  # in the forked child: it fails, exit 1
    try:
        fallen_back = setup.cli.json("verify", archive.name, "--jobs", "2", code=2)
    finally:
        monkeypatch.setattr(verify_split.pickle, "dumps", real)
    assert calls == [45, 45], "the child failed: this process verified the second half itself"
    assert fallen_back == alone

    here = os.getpid()

    def killed(registry: object, documents: list[bytes], **kwargs: object) -> object:
        if os.getpid() != here:  # a forked child: killed outright before it verifies anything
            os.kill(os.getpid(), signal.SIGKILL)
        return spied(registry, documents, **kwargs)

    calls.clear()
    monkeypatch.setattr("credreg.verify.verify_documents", killed)
    after_kill = setup.cli.json("verify", archive.name, "--jobs", "3", code=2)
    assert calls == [30, 30, 30], "both children were killed: this process verified their parts itself"
    assert after_kill == alone


def test_many_files_are_read_and_verified_a_part_a_process(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From `SPLIT_FROM` plain files, each process reads its own part of them as well as verifying it: the
    same reports as one process (a batch summary among them skipped, an unreadable file an error), every
    verdict at one block; a child that fails or is killed costs time, not verdicts."""
    from credreg.cli import credential_cmds, verify_split

    _, lines = _mixed_archive(setup, "byfile", prefix="BF", seed=75, count=90, tamper=(13, 6), broken=50)
    folder = setup.workdir / "byfile-files"
    folder.mkdir()
    for n, line in enumerate(lines):
        (folder / f"{n:03d}.json").write_bytes(line)
    (summary,) = (setup.workdir / "byfile").glob("batch-*.json")
    (folder / summary.name).write_bytes(summary.read_bytes())
    (folder / "gone.json").symlink_to(folder / "nowhere")
    names = [f"byfile-files/{n:03d}.json" for n in range(90)]
    names[40:40] = [f"byfile-files/{summary.name}", "byfile-files/gone.json"]

    read_here: list[str] = []  # the files this process read (a child's reads are its own)
    here = os.getpid()
    real_read = credential_cmds._read_whole

    def spied(name: str) -> bytes:
        if os.getpid() == here:
            read_here.append(name)
        return real_read(name)

    monkeypatch.setattr(credential_cmds, "_read_whole", spied)
    monkeypatch.setattr(verify_split, "SPLIT_FROM", 10)
    alone = setup.cli.json("verify", *names, "--jobs", "1", code=2)
    assert sorted(read_here) == sorted(names)
    assert [r["file"] for r in alone][-1] == f"byfile-files/{summary.name}"
    assert {r["verdict"] for r in alone} == {"valid", "invalid", "error", "skipped"}
    assert next(r for r in alone if r["file"].endswith("gone.json"))["verdict"] == "error"

    read_here.clear()
    split = setup.cli.json("verify", *names, "--jobs", "2", code=2)
    assert read_here == names[:46], "this process read the first half of the files; its child, the second"
    assert split == alone
    assert len({r["checked_block"] for r in split if r["verdict"] == "valid"}) == 1
    read_here.clear()
    assert setup.cli.json("verify", *names, "--jobs", "3", code=2) == alone
    assert read_here == names[:31]
    # Each process writes the text of the reports it verified: a --json element, or (as a person reads
    # it) a valid file's line. The same text, byte for byte.
    as_json = setup.cli.fails(2, "verify", *names, "--jobs", "1", "--json").out
    assert setup.cli.fails(2, "verify", *names, "--jobs", "2", "--json").out == as_json
    said = setup.cli.fails(2, "verify", *names, "--jobs", "1").out
    assert setup.cli.fails(2, "verify", *names, "--jobs", "2").out == said
    assert said.startswith("INVALID byfile-files/")
    assert "VALID byfile-files/089.json: 有效 / Valid" in said

    def broken(value: object, protocol: int | None = None) -> bytes:
        raise OSError("the child could not write its answer")

    read_here.clear()
    real_dumps = verify_split.pickle.dumps
    monkeypatch.setattr(verify_split.pickle, "dumps", broken)  # in the forked child: it fails, exit 1
    try:
        assert setup.cli.json("verify", *names, "--jobs", "2", code=2) == alone
    finally:
        monkeypatch.setattr(verify_split.pickle, "dumps", real_dumps)
    assert read_here == names, "the child failed: this process read and verified the second half itself"

    def killed(name: str) -> bytes:
        if os.getpid() != here:  # a forked child: killed outright as it reads its first file
            os.kill(os.getpid(), signal.SIGKILL)
        return spied(name)

    read_here.clear()
    monkeypatch.setattr(credential_cmds, "_read_whole", killed)
    assert setup.cli.json("verify", *names, "--jobs", "3", code=2) == alone
    assert read_here == names
    monkeypatch.setattr(credential_cmds, "_read_whole", spied)

    # A node that stops answering just after the block is read (each process's status reads fail), or before
    # it (one process then reads every file): no certificate is called valid, and one process and two say
    # the same.
    from credreg.errors import ChainUnreachable
    from credreg.registry import Registry

    def gone(*args: object, **kwargs: object) -> object:
        raise ChainUnreachable("the node stopped answering")

    local = {r["file"]: r for r in alone if r["verdict"] != "valid"}  # found wrong before any ledger read

    def no_valid(reports: list[dict[str, object]]) -> None:
        assert [r["file"] for r in reports] == [r["file"] for r in alone]
        for report in reports:
            if report["file"] in local:
                assert report == local[report["file"]]
            else:
                assert (report["verdict"], report["code"]) == ("error", "chain-unreachable"), report

    monkeypatch.setattr(Registry, "statuses", gone)  # after the block is read
    read_here.clear()
    after_head = setup.cli.json("verify", *names, "--jobs", "2", code=2)
    assert read_here == names[:46], "the files were still read a part a process"
    no_valid(after_head)
    assert setup.cli.json("verify", *names, "--jobs", "1", code=2) == after_head
    monkeypatch.setattr(Registry, "latest_head", gone)  # before it
    read_here.clear()
    before_head = setup.cli.json("verify", *names, "--jobs", "2", code=2)
    assert read_here == names, "no block to pin the parts to: this process read and verified every file"
    no_valid(before_head)
    assert before_head == after_head


# Runs `credreg issue` and SIGKILLs the process at a point: after `after` calls of a function.
KILLER = """
import os, signal, sys
from credreg import issuance
from credreg.cli import main
from credreg.registry import Relayer

point, after = sys.argv[1], int(sys.argv[2])
calls = [0]

def dying(real):
    def wrapped(*args, **kwargs):
        if calls[0] >= after:
            os.kill(os.getpid(), signal.SIGKILL)
        calls[0] += 1
        return real(*args, **kwargs)
    return wrapped

if os.environ.get("SPLIT") == "1":
    issuance.SPLIT_FROM_BYTES = 0  # the file's second half read by a child process, whatever its size
if point == "first pass":
    issuance.BatchWrapper.head = dying(issuance.BatchWrapper.head)
elif point == "before sending":
    Relayer.issue = dying(Relayer.issue)
elif point == "after sending":
    real_issue = Relayer.issue
    def issue_and_die(self, signed):
        real_issue(self, signed)
        os.kill(os.getpid(), signal.SIGKILL)
    Relayer.issue = issue_and_die
elif point == "writing":
    issuance.finish_document = dying(issuance.finish_document)
elif point == "writing in a worker":
    issuance.WORKER_FROM = 0  # the files are created by a child process, fed through a pipe
    issuance.finish_document = dying(issuance.finish_document)
elif point == "summary":
    issuance._write_summary = dying(issuance._write_summary)
elif point == "adding the archive":
    issuance._checked = dying(issuance._checked)
sys.exit(main(sys.argv[3:]))
"""


@pytest.mark.parametrize(
    ("point", "after"),
    [
        ("first pass", 12),
        ("before sending", 0),
        ("after sending", 0),
        ("writing", 17),
        ("writing in a worker", 17),
        ("summary", 0),
        ("first pass in two", 5),
        ("before sending in two", 0),
    ],
)
def test_a_killed_issuance_resumes_to_the_same_root(setup: Setup, point: str, after: int) -> None:
    name = "kill-" + point.replace(" ", "-")
    results = sample_results(
        setup.workdir / f"{name}.csv", COUNT, prefix=f"K{after}{len(point)}", seed=80 + after
    )
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("CREDREG_")}, **setup.cli.env}
    if point.endswith(" in two"):  # the first pass read in two halves, the second by a child process
        point = point.removesuffix(" in two")
        env["SPLIT"] = "1"
    args = ["issue", "--yes", str(results), "--out", name, "--dev-account", "2", "--archive"]
    killed = subprocess.run(
        [sys.executable, "-c", KILLER, point, str(after), *args],
        cwd=setup.workdir, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert killed.returncode == -9, killed.stderr
    out = setup.workdir / name
    states = list((out / JOURNAL_DIR).glob("*.json"))
    if point == "first pass":
        assert states == [], "the journal is not whole, so it names no root"
        assert list((out / JOURNAL_DIR).glob("*.spool.part")), "the first pass was cut short"
        journaled = None
    else:
        (state,) = states
        journaled = str(json.loads(state.read_text(encoding="utf-8"))["root"])
        halves = list((out / JOURNAL_DIR).glob("*.spool.2"))
        assert len(halves) == (1 if env.get("SPLIT") else 0), "the second half's documents are journaled"
        sent = setup.world.registry.record(setup.world.agency_id, journaled).issued
        assert sent == (point != "before sending")
    assert list(out.glob("batch-*.json")) == [], "no summary: the batch is not complete"
    if point == "writing":
        assert 0 < len(list(out.glob("K*.json"))) < COUNT

    said = setup.issue(results, name, "--archive")
    root = str(_summary(out)["root"])
    if journaled is not None:
        assert root == journaled
        assert f"resumed and issued {COUNT} certificate(s) under root {root}" in said
    _check_batch(setup, out, root)
    again = setup.issue(results, name, "--archive")
    assert f"already issued: this file is batch {root}" in again
    assert len(setup.world.issued_events(root)) == 1
