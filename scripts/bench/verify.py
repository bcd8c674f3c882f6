"""Verification: the library's rate beside the floor of hashing alone, and the command line (bulk `credreg
verify` and start-up) in fresh processes.

The library's row alone, on a chain of its own (a few seconds to issue the batch, then the runs):

    cd scripts && ../.venv/bin/python -m bench.verify [--documents 10000] [--runs 3]
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import orjson
from eth_utils.crypto import keccak

from bench.core import (
    CLI_STARTS,
    TOO_SMALL,
    Config,
    Deadline,
    Row,
    Setup,
    check,
    group_cpu_seconds,
    median,
)
from credreg.cli.verify_split import default_jobs
from credreg.documents._keccak import new_keccak256
from credreg.documents.canonical import flatten
from credreg.verify import Outcome, verify_documents

# --- verification --------------------------------------------------------------------------------------


def hashing_inputs(document: bytes) -> list[bytes]:
    """Every byte string verifying `document` hashes: each field's JSON, the sorted field hashes' JSON, and
    each merkle proof step's pair (as `verify_documents` hashes them, and in the same number)."""
    parsed = json.loads(document)
    texts = [
        json.dumps({key: value}, ensure_ascii=False, separators=(",", ":")).encode()
        for key, value in flatten(parsed["data"]).items()
    ]
    hashes = sorted(keccak(t).hex() for t in texts)
    texts.append(json.dumps(hashes, separators=(",", ":")).encode())
    node = bytes.fromhex(parsed["signature"]["targetHash"])
    for step in parsed["signature"]["proof"]:
        pair = b"".join(sorted((node, bytes.fromhex(step))))
        texts.append(pair)
        node = keccak(pair)
    return texts


def hashing_floor(documents: list[bytes], runs: int) -> tuple[float, float]:
    """Documents per second for the least verification must do: parse each file (with orjson, as the
    library reads a file first) and hash what it hashes; and the CPU µs a document that takes (medians)."""
    inputs = [hashing_inputs(d) for d in documents]
    new_hash = new_keccak256
    rates, cpu_us = [], []
    for _ in range(runs):
        started, cpu = time.perf_counter(), time.process_time()
        for document, texts in zip(documents, inputs, strict=True):
            orjson.loads(document)
            for text in texts:
                new_hash(text).hexdigest()
        rates.append(len(documents) / (time.perf_counter() - started))
        cpu_us.append(1e6 * (time.process_time() - cpu) / len(documents))
    return median(rates), median(cpu_us)


def measure_verify_library(
    s: Setup, documents: list[bytes], cfg: Config, deadline: Deadline, log: Callable[[str], None]
) -> Row:
    floor, floor_cpu = hashing_floor(documents, cfg.runs)
    log(
        f"  the same parsing and hashing alone: {floor:,.0f} documents/s ({floor_cpu:.0f} µs of CPU a document)"
    )
    rates: list[float] = []
    cpu_us: list[float] = []
    node_us: list[float] = []
    for _ in range(cfg.runs):
        deadline.check("library verification")
        node = group_cpu_seconds(s.chain.process_group)
        started, cpu = time.perf_counter(), time.process_time()
        reports = verify_documents(s.registry, documents)
        seconds = time.perf_counter() - started
        cpu_us.append(1e6 * (time.process_time() - cpu) / len(documents))
        node_us.append(1e6 * (group_cpu_seconds(s.chain.process_group) - node) / len(documents))
        bad = [r for r in reports if r.verdict is not Outcome.VALID]
        if bad:
            raise RuntimeError(f"{len(bad)} of {len(documents)} documents did not verify: {bad[0].code}")
        rates.append(len(documents) / seconds)
        log(
            f"  verify_documents({len(documents):,}): {len(documents) / seconds:,.0f} documents/s "
            f"({cpu_us[-1]:.0f} µs of this process's CPU a document; the node's work runs beside it: "
            f"{node_us[-1]:.0f} µs of its CPU a document)"
        )
    rate, cpu_median, node_median = median(rates), median(cpu_us), median(node_us)
    log(
        f"  library {rate:,.0f} documents/s beside the floor's {floor:,.0f}/s: {rate / floor:.2f}× the floor "
        f"(the floor hashes every proof step; the library hashes a step shared by documents once); "
        f"CPU {cpu_median:.0f} µs a document beside the floor's {floor_cpu:.0f} µs: {cpu_median / floor_cpu:.2f}× "
        f"(this process's CPU, the ledger reads' thread included; on a shared machine, the steadier figure)"
    )
    return Row(
        "verify.library",
        "verification",
        f"verify {len(documents):,} documents in one batch (floor: their parsing and hashing alone)",
        "docs/s",
        rate,
        peers={"base": floor},
        targets=[
            check("≥ 10,000 documents/s", rate, lambda v: v >= 10_000, "" if cfg.judge_rates else TOO_SMALL)
        ],
        detail={
            "runs": rates,
            "documents": len(documents),
            "floor": floor,
            "ratio_to_floor": rate / floor,
            "cpu_us_per_document": cpu_median,
            "cpu_us_runs": cpu_us,
            # The ledger node's own CPU for the status reads (anvil, on the same cores in this benchmark).
            "node_cpu_us_per_document": node_median,
            "floor_cpu_us_per_document": floor_cpu,
            "cpu_ratio_to_floor": cpu_median / floor_cpu,
        },
    )


# --- the command line ----------------------------------------------------------------------------------


def _cli_env(s: Setup, work: Path) -> dict[str, str]:
    data_dir = work / "cli"
    data_dir.mkdir(parents=True, exist_ok=True)
    s.manifest.save(data_dir / "deployment.json")
    env = {**os.environ, "CREDREG_DATA_DIR": str(data_dir), "CREDREG_RPC_URL": s.chain.url}
    # An installed credreg starts from its modules' bytecode (pip writes it, or the first import does). With
    # PYTHONDONTWRITEBYTECODE set, every start would compile the modules changed since their bytecode was
    # last written, about 50 ms of CPU for the command line's own: the timed processes keep their
    # bytecode under the working directory instead, written by an untimed first start (`measure_cli`).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    return env


def _timed_process(
    command: list[str], env: dict[str, str], cwd: Path, deadline: Deadline
) -> tuple[float, float]:
    """Seconds from starting `command` to its exit, which must be 0 (output discarded), and the CPU seconds
    it used (on a shared machine the first waits for the other users' work, the second does not)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        command,
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=max(1.0, min(300.0, deadline.left())),
        check=False,
    )
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:4])} … exited {done.returncode}: {done.stderr[-500:]!r}")
    return seconds, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure_cli(
    s: Setup,
    files: list[Path],
    library_rate: float | None,
    cfg: Config,
    work: Path,
    deadline: Deadline,
    log: Callable[[str], None],
) -> list[Row]:
    """`credreg --help` and `credreg verify one.json` beside `python -c pass`, and `credreg verify` over the
    whole batch's files beside the library's rate."""
    env = _cli_env(s, work)
    credreg = [sys.executable, "-m", "credreg.cli"]
    starts = max(cfg.runs, CLI_STARTS)

    cpu: dict[str, float] = {}

    def started(name: str, command: list[str]) -> float:
        deadline.check("timing the command line")
        walls, cpus = zip(*(_timed_process(command, env, work, deadline) for _ in range(starts)), strict=True)
        cpu[name] = median(cpus)
        return median(walls)

    _timed_process([*credreg, "verify", str(files[0])], env, work, deadline)  # writes the bytecode
    python = started("python", [sys.executable, "-c", "pass"])
    helped = started("help", [*credreg, "--help"])
    one = started("verify_one", [*credreg, "verify", str(files[0])])
    log(
        f"  start-up beside python -c pass {python:.2f} s: credreg --help {helped:.2f} s (+{helped - python:.2f}), "
        f"credreg verify one {one:.2f} s (+{one - python:.2f}, its ledger read included) "
        f"(CPU {cpu['python']:.2f}, {cpu['help']:.2f}, {cpu['verify_one']:.2f} s)"
    )
    # As a person types it, `credreg verify out/*.json`: the batch's summary file comes along, and is skipped.
    # As it starts by default (two processes on a machine with two cores), and kept to one (`--jobs 1`).
    globbed = sorted(files[0].parent.glob("*.json"))
    jobs = default_jobs()
    rates: dict[int, list[float]] = {jobs: [], 1: []}
    for _ in range(cfg.runs):
        for n in rates:
            deadline.check("credreg verify over the batch")
            command = [*credreg, "verify", "--jobs", str(n), *map(str, globbed)]
            node = group_cpu_seconds(s.chain.process_group)
            seconds, used = _timed_process(command, env, work, deadline)
            node = group_cpu_seconds(s.chain.process_group) - node
            rates[n].append(len(files) / seconds)
            log(
                f"  credreg verify --jobs {n} {len(files):,} files: {len(files) / seconds:,.0f} files/s "
                f"({seconds:.2f} s; CPU: the command {used:.2f} s, the node {node:.2f} s)"
            )
    bulk, alone = median(rates[jobs]), median(rates[1])
    if library_rate:
        log(
            f"  credreg verify {bulk:,.0f} files/s ({jobs} process(es), the default here) beside the library's "
            f"{library_rate:,.0f} documents/s (one process): {bulk / library_rate:.0%} of the library; "
            f"--jobs 1: {alone:,.0f} files/s, {alone / library_rate:.0%} (start-up and reading the files included)"
        )
    judge = "" if cfg.judge_rates else TOO_SMALL
    return [
        Row(
            "cli.help",
            "command line",
            "credreg --help, a fresh process (baseline: python -c pass)",
            "s",
            helped,
            peers={"base": python},
            targets=[check("< 0.25 s", helped, lambda v: v < 0.25)],
            detail={"starts": starts, "cpu_seconds": cpu["help"], "baseline_cpu_seconds": cpu["python"]},
        ),
        Row(
            "cli.verify_one",
            "command line",
            "credreg verify one.json, its ledger read included (baseline: python -c pass)",
            "s",
            one,
            peers={"base": python},
            targets=[check("< 0.4 s", one, lambda v: v < 0.4)],
            detail={
                "starts": starts,
                "cpu_seconds": cpu["verify_one"],
                "baseline_cpu_seconds": cpu["python"],
            },
        ),
        Row(
            "verify.cli_bulk",
            "verification",
            f"credreg verify {len(files):,} files, reading them, {jobs} process(es) (baseline: the library's rate)",
            "docs/s",
            bulk,
            peers={"base": library_rate},
            targets=[
                check(
                    "≥ 80% of the library's rate",
                    None if library_rate is None else bulk / library_rate,
                    lambda v: v >= 0.8,
                    judge,
                )
            ],
            detail={
                "runs": rates[jobs],
                "files": len(files),
                "jobs": jobs,
                "share_of_library": None if not library_rate else bulk / library_rate,
            },
        ),
        Row(
            "verify.cli_bulk_one_process",
            "verification",
            f"credreg verify {len(files):,} files, reading them, --jobs 1 (baseline: the library's rate)",
            "docs/s",
            alone,
            peers={"base": library_rate},
            detail={
                "runs": rates[1],
                "files": len(files),
                "share_of_library": None if not library_rate else alone / library_rate,
            },
        ),
    ]


# --- the library's row alone ---------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Issue one batch on a fresh anvil and print `measure_verify_library`'s figures (no other section)."""
    import argparse
    import dataclasses
    import tempfile

    from bench.core import FULL, BenchChain, deploy_credreg
    from bench.issuance import issue_once
    from credreg.chain.devchain import free_port

    parser = argparse.ArgumentParser(prog="python -m bench.verify", description=main.__doc__)
    parser.add_argument("--documents", type=int, default=10_000, help="documents in the batch (10,000)")
    parser.add_argument("--runs", type=int, default=FULL.runs, help="timed runs; figures are their medians")
    args = parser.parse_args(argv)
    if not 1 <= args.documents <= 100_000 or not 1 <= args.runs <= 20:
        parser.error("--documents must be 1 to 100,000 and --runs 1 to 20")
    cfg = dataclasses.replace(FULL, runs=args.runs, judge_rates=args.documents >= 10_000)
    deadline = Deadline(600.0)
    with tempfile.TemporaryDirectory(prefix="credreg-bench-verify-") as work:
        chain = BenchChain(host="127.0.0.1", port=free_port(), persist=False)
        with chain:
            s = deploy_credreg(chain)
            issued = issue_once(s, Path(work), args.documents, 7, deadline)
            documents = [p.read_bytes() for p in issued.files]
            row = measure_verify_library(s, documents, cfg, deadline, print)
    print(json.dumps({"id": row.id, "credreg": row.credreg, **row.detail}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
