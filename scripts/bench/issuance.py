"""Issuing a results file end to end, beside OpenAttestation's own wrapping of the same data (bench/oa_wrap.js),
and exporting the batch as W3C VCs."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.audit import (
    rss_mb,
)
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
)
from credreg.documents.layout import certificate_to_data
from credreg.documents.model import AgencyRef
from credreg.documents.results import IssueContext, read_results
from credreg.documents.wrap import load_document
from credreg.issuance import issue_results_file
from credreg.samples import write_sample_results
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
        "read and build": read,
        "salt, hash, merkle": wrap - read,
        "journal, sign, submit, confirm": recorded - wrap,
        "write documents": written - recorded,
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
        size: median([run.phases["salt, hash, merkle"] + run.phases["write documents"] for run in runs[size]])
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
                "basis": "the same work on both sides: salt, hash, merkle tree and proofs, one file each"
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
    return rows, kept


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
