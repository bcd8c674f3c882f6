"""Issuing a results file end to end, beside OpenAttestation's own wrapping of the same data (bench/oa_wrap.js),
and exporting the batch as W3C VCs."""

from __future__ import annotations

import csv
import itertools
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.audit_scale import rss_mb
from bench.core import (
    AGENCY_NAME,
    BENCH_DIR,
    IDENTITY_LOCATION,
    PROJECT_ROOT,
    TARGET_BATCH,
    Config,
    Deadline,
    Row,
    Setup,
    check,
    median,
    settle_disk,
)
from bench.report import ROW_SKELETON, not_measured
from credreg.documents._keccak import new_keccak256
from credreg.documents.canonical import flatten, random_salts
from credreg.documents.layout import certificate_to_data
from credreg.documents.model import AgencyRef
from credreg.documents.results import RESULTS_COLUMNS, IssueContext, iter_results, read_results
from credreg.documents.wrap import load_document
from credreg.issuance import issue_results_file
from credreg.samples import sample_rows, write_sample_results
from credreg.vc.export import export_vc
from credreg.vc.keys import generate_key

# --- issuance ------------------------------------------------------------------------------------------


@dataclass
class IssueRun:
    size: int
    seconds: float
    phases: dict[str, float]
    root: str
    files: list[Path]
    peak_rss_mb: float = 0.0  # of the benchmark process, so far


def issue_once(s: Setup, work: Path, size: int, seed: int, deadline: Deadline) -> IssueRun:
    deadline.check(f"issuing {size} certificates")
    run_dir = work / f"issue-{size}-{seed}"
    if run_dir.exists():
        raise RuntimeError(f"{run_dir} exists already: every run issues into a new directory")
    results = write_sample_results(run_dir / "results.csv", size, seed=seed)
    out = run_dir / "documents"
    marks: dict[str, float] = {}
    started = time.perf_counter()

    def progress(stage: str, done: int, total: int) -> None:
        if done == total:
            marks[stage] = time.perf_counter() - started

    outcome = issue_results_file(
        s.registry, s.signer, s.relayer, results, out, identity_location=IDENTITY_LOCATION, progress=progress
    )
    seconds = time.perf_counter() - started
    if outcome.already_done or outcome.summary.count != size:
        raise RuntimeError(f"issuing {size} certificates recorded {outcome.summary.count}")
    read, wrap = marks["read"], marks["wrap"]
    recorded, written = marks["recorded"], marks["write"]
    phases = {
        "first pass: read, check, salt, hash, journal": read,
        "merkle tree": wrap - read,
        "sign, submit, confirm": recorded - wrap,
        "second pass: proofs, write documents": written - recorded,
        "summary and sync": seconds - written,
    }
    return IssueRun(
        size, seconds, phases, outcome.summary.root, [out / name for name in outcome.summary.files]
    )


def oa_data_file(s: Setup, work: Path, size: int, seed: int) -> Path:
    """The unwrapped data objects credreg wraps for this results file, one JSON per line, for OpenAttestation."""
    path = work / f"oa-data-{size}-{seed}.jsonl"
    results = write_sample_results(work / f"oa-results-{size}-{seed}.csv", size, seed=seed)
    context = IssueContext(
        agency=AgencyRef(id=s.agency_id, name=AGENCY_NAME),
        chain_id=s.registry.domain.chain_id,
        registry=s.registry.address,
    )
    certificates = read_results(results, context=context)
    with path.open("w", encoding="utf-8") as fh:
        for certificate in certificates:
            data = certificate_to_data(certificate, identity_location=IDENTITY_LOCATION)
            fh.write(json.dumps(data, ensure_ascii=False) + "\n")
    return path


def oa_wrap_once(data: Path, out: Path, deadline: Deadline) -> dict[str, Any]:
    deadline.check("OpenAttestation wrapping")
    if out.exists():
        raise RuntimeError(f"{out} exists already: every run wraps into a new directory")
    started = time.perf_counter()
    done = subprocess.run(
        ["node", str(BENCH_DIR / "oa_wrap.js"), str(data), str(out)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=max(1.0, min(900.0, deadline.left())),
        check=False,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"OpenAttestation wrapping failed: {done.stderr.strip()[-800:]}")
    figures: dict[str, Any] = json.loads(done.stdout)
    figures["process_seconds"] = wall
    return figures


def measure_issuance(
    s: Setup, cfg: Config, work: Path, deadline: Deadline, log: Callable[[str], None]
) -> tuple[list[Row], IssueRun]:
    runs: dict[int, list[IssueRun]] = {}
    kept: IssueRun | None = None
    for size in cfg.sizes:
        repeats = cfg.large_runs if size == cfg.sizes[2] and size > cfg.batch else cfg.runs
        for r in range(repeats):
            run = issue_once(s, work, size, seed=1000 * r + size % 997, deadline=deadline)
            runs.setdefault(size, []).append(run)
            log(f"  issue {size:,}: {run.seconds:.2f} s")
            run.peak_rss_mb = rss_mb()[1]
            if size == cfg.batch and kept is None:
                kept = run  # its documents are verified below
            # Nothing is deleted until the end: removing thousands of files stalls the next run's file
            # creation (ext4 journal commits, discards), which is not what an agency's machine sees.
    assert kept is not None
    try:
        national = measure_national(s, cfg, work, deadline, log)
    except (OSError, RuntimeError, subprocess.SubprocessError, TimeoutError) as exc:
        # The national batch runs for minutes in a process of its own: its failure or time-out must not
        # take the figures above with it.
        log(f"  national batch failed: {type(exc).__name__}: {exc}")
        skeleton = [
            r for r in ROW_SKELETON["issuance"] if r[0].startswith(("issue.national", "verify.national"))
        ]
        national = not_measured(skeleton, f"{type(exc).__name__}: {str(exc)[:160]}")
    oa: dict[int, list[dict[str, Any]]] = {}
    for size in cfg.oa_sizes:
        data = oa_data_file(s, work, size, seed=size % 997)
        for r in range(cfg.runs):
            figures = oa_wrap_once(data, work / f"oa-out-{size}-{r}", deadline)
            oa.setdefault(size, []).append(figures)
            log(
                f"  OpenAttestation wrap {size:,}: {figures['wrap_seconds'] + figures['write_seconds']:.2f} s"
            )

    def oa_total(size: int) -> float | None:
        if size not in oa:
            return None
        return median([f["wrap_seconds"] + f["write_seconds"] for f in oa[size]])

    def phases(size: int) -> dict[str, float]:
        names = runs[size][0].phases
        return {name: median([run.phases[name] for run in runs[size]]) for name in names}

    rows: list[Row] = []
    batch = cfg.batch
    batch_seconds = median([run.seconds for run in runs[batch]])
    applies = (
        "" if batch == TARGET_BATCH else f"the target is for {TARGET_BATCH:,}; this run issued {batch:,}"
    )
    rows.append(
        Row(
            "issue.end_to_end",
            "issuance",
            f"issue {batch:,} certificates end to end",
            "s",
            batch_seconds,
            {"oa_lib": oa_total(batch)},
            [check(f"< 5 s for {TARGET_BATCH:,}", batch_seconds, lambda v: v < 5, applies)],
            {
                "size": batch,
                "runs": [run.seconds for run in runs[batch]],
                "phases": phases(batch),
                "peer_basis": "OpenAttestation: wrapDocuments + writing the files only, nothing recorded",
                "oa_runs": oa.get(batch, []),
            },
        )
    )
    wrap_write = {
        size: median([run.seconds - run.phases["sign, submit, confirm"] for run in runs[size]])
        for size in cfg.sizes
    }
    rows.append(
        Row(
            "issue.wrap_write",
            "issuance",
            f"wrap + write {batch:,} documents (no ledger)",
            "s",
            wrap_write[batch],
            {"oa_lib": oa_total(batch)},
            detail={
                "basis": "the same work on both sides: read the data, salt, hash, merkle tree and proofs, "
                "one file each (credreg: everything but the ledger)"
            },
        )
    )
    for i, size in enumerate(cfg.sizes):
        seconds = median([run.seconds for run in runs[size]])
        rows.append(
            Row(
                f"growth.{i + 1}",
                "growth",
                f"issue {size:,} end to end ({size / seconds:,.0f}/s)",
                "s",
                seconds,
                {"oa_lib": oa_total(size)},
                detail={
                    "size": size,
                    "runs": [run.seconds for run in runs[size]],
                    "phases": phases(size),
                    "per_second": size / seconds,
                    "benchmark_process_peak_rss_mb": max(run.peak_rss_mb for run in runs[size]),
                },
                note="" if size in oa else "OpenAttestation not run at this size (--oa-large to include it)",
            )
        )
    return rows + national, kept


# --- a national batch: `credreg issue` of 1,000,000 certificates in a process of its own -------------------

NATIONAL_BATCH = 1_000_000
NATIONAL_MEMORY_MB = 300
NATIONAL_RATE = 10_000
CREDREG = Path(sys.executable).with_name("credreg")


def national_size(cfg: Config) -> int:
    """1,000,000 in the full run; a few hundred with --quick, and 20 times the batch with --no-large."""
    return NATIONAL_BATCH if cfg.sizes[2] >= 100_000 else 4 * cfg.sizes[2]


def write_national_results(path: Path, count: int, tag: str) -> Path:
    """One session of `count` results, written 50,000 rows at a time (the benchmark's memory stays small)."""
    chunk = 50_000
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer: csv.DictWriter[str] | None = None
        for start in range(0, count, chunk):
            rows = sample_rows(min(chunk, count - start), seed=start + 1, prefix=f"{tag}{start // chunk:03d}")
            for row in rows:
                row["assessment_session_id"] = "N-20260630-national"
            if writer is None:
                writer = csv.DictWriter(fh, fieldnames=[c for c in RESULTS_COLUMNS if c in rows[0]])
                writer.writeheader()
            writer.writerows(rows)
    return path


@dataclass
class TimedIssue:
    seconds: float
    # User + system of the issuing process and of the children it forks and waits for (the first pass's
    # second half, the file writer); the chain's work is not in it.
    cpu_seconds: float
    peak_rss_mb: float  # the largest resident set size of those processes, as /usr/bin/time -v reports it
    command: str


def time_cli(args: list[str], env: dict[str, str], cwd: Path, deadline: Deadline) -> TimedIssue:
    """Run `credreg ARGS` under /usr/bin/time -v: wall seconds, CPU seconds and peak resident memory."""
    started = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-v", str(CREDREG), *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=max(1.0, deadline.left()),
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        said = done.stderr.partition("\tCommand being timed")[0].strip()
        raise RuntimeError(f"credreg {' '.join(args)} failed: {said[-800:]}")
    figures: dict[str, float] = {}
    for line in done.stderr.splitlines():
        name, _, value = line.strip().rpartition(": ")
        if name in ("User time (seconds)", "System time (seconds)", "Maximum resident set size (kbytes)"):
            figures[name] = float(value)
    return TimedIssue(
        seconds,
        figures["User time (seconds)"] + figures["System time (seconds)"],
        figures["Maximum resident set size (kbytes)"] / 1024,
        "credreg " + " ".join(args),
    )


def issuing_floor(results: Path, s: Setup, work: Path, count: int, files: bool) -> float:
    """Certificates a second for the work no issuer can skip, measured on `count` of them: salting and
    hashing their fields (a salt and keccak-256 each), the target hash, and, with `files`, creating one
    file of a document's size each."""
    context = IssueContext(
        agency=AgencyRef(id=s.agency_id, name=AGENCY_NAME),
        chain_id=s.registry.domain.chain_id,
        registry=s.registry.address,
    )
    inputs: list[list[bytes]] = []
    for _, certificate in itertools.islice(iter_results(results, context=context), count):
        data = certificate_to_data(certificate, identity_location=IDENTITY_LOCATION)
        inputs.append([json.dumps({k: v}).encode() for k, v in flatten(data).items()])
    salts = random_salts()
    target = b"[" + b",".join([b'"' + b"0" * 64 + b'"'] * len(inputs[0])) + b"]"
    body = b"x" * 2_300
    out = work / "floor-files"
    out.mkdir(parents=True)
    directory = os.open(out, os.O_RDONLY)
    started = time.perf_counter()
    try:
        for i, fields in enumerate(inputs):
            for field in fields:
                next(salts)
                new_keccak256(field).hexdigest()
            new_keccak256(target).hexdigest()
            if files:
                fd = os.open(f"{i}.json", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644, dir_fd=directory)
                os.write(fd, body)
                os.close(fd)
    finally:
        os.close(directory)
    return len(inputs) / (time.perf_counter() - started)


def measure_national(
    s: Setup, cfg: Config, work: Path, deadline: Deadline, log: Callable[[str], None]
) -> list[Row]:
    """`credreg issue` of a national batch, one file per certificate, and again as one archive only."""
    count = national_size(cfg)
    deadline.check(f"issuing {count:,} certificates as one batch")
    data_dir = work / "national-cli"
    data_dir.mkdir()
    s.manifest.save(data_dir / "deployment.json")
    env = {**os.environ, "CREDREG_DATA_DIR": str(data_dir), "CREDREG_RPC_URL": s.chain.url}
    floors: dict[bool, float] = {}
    runs: dict[bool, TimedIssue] = {}
    checked: list[Row] = []
    for files in (True, False):
        results = write_national_results(work / f"national-{files}.csv", count, "NF" if files else "NA")
        settle_disk()  # each figure on a disk that is not still writing out the one before
        floors[files] = issuing_floor(results, s, work / f"floor-{files}", min(count, 20_000), files)
        out = f"national-{'files' if files else 'archive'}"
        form = [] if files else ["--no-files", "--archive"]
        args = ["issue", results.name, "--out", out, "--yes", "--dev-account", "2", *form]
        settle_disk()
        runs[files] = run = time_cli(args, env, work, deadline)
        log(
            f"  credreg issue {count:,} ({'a file each' if files else 'one archive'}): {run.seconds:.1f} s, "
            f"{count / run.seconds:,.0f}/s ({count / run.cpu_seconds:,.0f}/s of its CPU), "
            f"peak {run.peak_rss_mb:.0f} MB"
        )
        if not files:
            checked = verify_national_archive(work / out, count, env, work, deadline, log)
        shutil.rmtree(work / out, ignore_errors=True)  # a million files: not kept for the rest of the run
    start = time_cli(["--version"], env, work, deadline)
    applies = (
        ""
        if count == NATIONAL_BATCH
        else f"the targets are for {NATIONAL_BATCH:,}; this run issued {count:,}"
    )
    rows = []
    for files, run in runs.items():
        rate = count / run.seconds
        rows.append(
            Row(
                "issue.national" if files else "issue.national_archive",
                "issuance",
                f"credreg issue {count:,}, {'a file each' if files else 'one archive'}, certificates/s "
                "(floor: their salts, hashes" + (" and file creation" if files else "") + " alone)",
                "certs/s",
                rate,
                peers={"base": floors[files]},
                targets=[check(f"≥ {NATIONAL_RATE:,}/s", rate, lambda v: v >= NATIONAL_RATE, applies)],
                detail={
                    "size": count,
                    "seconds": run.seconds,
                    "cpu_seconds": run.cpu_seconds,
                    "per_cpu_second": count / run.cpu_seconds,
                    "peak_rss_mb": run.peak_rss_mb,
                    "command": run.command,
                    "load_average": os.getloadavg()[0],  # the machine is shared: what else was running
                },
            )
        )
    worst = max(run.peak_rss_mb for run in runs.values())
    rows.append(
        Row(
            "issue.national_memory",
            "issuance",
            f"credreg issue {count:,}: peak resident memory (baseline: credreg --version)",
            "MB",
            worst,
            peers={"base": start.peak_rss_mb},
            targets=[check(f"< {NATIONAL_MEMORY_MB} MB", worst, lambda v: v < NATIONAL_MEMORY_MB, applies)],
            detail={
                "files_mb": runs[True].peak_rss_mb,
                "archive_mb": runs[False].peak_rss_mb,
                "per_certificate_bytes": (worst - start.peak_rss_mb) * 1024 * 1024 / count,
                "before": "2.4 GB for 100,000 (the whole batch in memory, about 21 KB a certificate)",
            },
        )
    )
    return rows + checked


def verify_national_archive(
    out: Path, count: int, env: dict[str, str], work: Path, deadline: Deadline, log: Callable[[str], None]
) -> list[Row]:
    """`credreg verify` of the national archive, as an employer given it runs it: its rate and peak memory.
    Its failure or time-out leaves the issuance's figures standing."""
    skeleton = [r for r in ROW_SKELETON["issuance"] if r[0].startswith("verify.national")]
    try:
        (archive,) = out.glob("batch-*.jsonl")
        run = time_cli(["verify", str(archive.relative_to(work))], env, work, deadline)
    except (OSError, RuntimeError, ValueError, subprocess.SubprocessError, TimeoutError) as exc:
        log(f"  credreg verify of the archive failed: {type(exc).__name__}: {exc}")
        return not_measured(skeleton, f"{type(exc).__name__}: {str(exc)[:160]}")
    rate = count / run.seconds
    log(
        f"  credreg verify {count:,} (one archive): {run.seconds:.1f} s, {rate:,.0f}/s, peak {run.peak_rss_mb:.0f} MB"
    )
    detail = {"size": count, "seconds": run.seconds, "cpu_seconds": run.cpu_seconds, "command": run.command}
    return [
        Row(
            "verify.national_archive",
            "verification",
            f"credreg verify of the national archive ({count:,}), certificates/s, the ledger's reads included",
            "certs/s",
            rate,
            detail={**detail, "per_cpu_second": count / run.cpu_seconds},
        ),
        Row(
            "verify.national_archive_memory",
            "verification",
            f"credreg verify of the national archive ({count:,}): peak resident memory",
            "MB",
            run.peak_rss_mb,
            targets=[check(f"< {NATIONAL_MEMORY_MB} MB", run.peak_rss_mb, lambda v: v < NATIONAL_MEMORY_MB)],
            detail={**detail, "before": "every document and report held: 921 MB for 100,000"},
        ),
    ]


def measure_export_vc(
    documents: list[bytes],
    oa_seconds: float | None,
    cfg: Config,
    work: Path,
    deadline: Deadline,
    log: Callable[[str], None],
) -> list[Row]:
    """Export the issued batch as VC 2.0 files: read, sign (RDFC-1.0 + Ed25519), write one file each."""
    key = generate_key()
    runs: list[float] = []
    for r in range(cfg.runs):
        deadline.check("VC export")
        out = work / f"vc-out-{r}"
        out.mkdir()
        started = time.perf_counter()
        for position, raw in enumerate(documents):
            credential = export_vc(
                load_document(raw),
                key,
                status_base_url="https://registry.example.org/v1/status",
                position=position,
                created=1_760_000_000,
            )
            (out / f"{position}.vc.json").write_text(json.dumps(credential, ensure_ascii=False), "utf-8")
        runs.append(time.perf_counter() - started)
        log(f"  export {len(documents):,} VCs: {runs[-1]:.2f} s")
    return [
        Row(
            "issue.export_vc",
            "issuance",
            f"export {len(documents):,} issued documents as VC 2.0 and write them",
            "s",
            median(runs),
            {"oa_lib": oa_seconds},
            detail={
                "runs": runs,
                "per_credential_ms": 1000 * median(runs) / max(1, len(documents)),
                "peer_basis": "OpenAttestation: wrapDocuments + writing the same batch",
            },
        )
    ]
