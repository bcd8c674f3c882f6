"""The whole benchmark run (`python scripts/bench`): every part in order, the table and the JSON in bench-results/."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bench
from bench import audit, audit_scale, gas, wrap
from bench.api import (
    measure_batch_upload,
    measure_verify_api,
    upload_main,
)
from bench.audit import (
    BuiltLedger,
    measure_audit,
    run_replay,
)
from bench.core import (
    API_SERVER_WORKERS,
    FULL,
    PEERS,
    PROJECT_ROOT,
    QUICK,
    BenchChain,
    Config,
    Deadline,
    Row,
    Target,
    deploy_credreg,
    profile_call,
    settle_disk,
    summarize_profile,
)
from bench.issuance import (
    IssueRun,
    issue_once,
    measure_export_vc,
    measure_issuance,
)
from bench.report import (
    ROW_IDS,
    ROW_SKELETON,
    git_commit,
    machine,
    not_measured,
    render,
    versions,
)
from bench.verify import (
    measure_cli,
    measure_verify_library,
)
from credreg.chain.devchain import free_port, rpc_answers
from credreg.verify import verify_documents

# --- main ----------------------------------------------------------------------------------------------


def run(
    cfg: Config, out_path: Path, profile_dir: Path | None, keep: bool, log: Callable[[str], None]
) -> dict[str, Any]:
    deadline = Deadline(cfg.timeout)
    started = time.perf_counter()
    info = {"machine": machine(), "versions": versions(), "git": git_commit()}
    work = Path(tempfile.mkdtemp(prefix="credreg-bench-"))
    rows: list[Row] = []
    profiles: dict[str, str] = {}
    errors: dict[str, str] = {}
    chain = BenchChain(host="127.0.0.1", port=free_port(), persist=False)
    try:
        with chain:
            if not rpc_answers(chain.url):
                raise RuntimeError(f"anvil does not answer on {chain.url}")
            s = deploy_credreg(chain)
            log(f"chain {chain.url}, credreg at {s.registry.address}")

            def section(key: str, action: Callable[[], list[Row]]) -> None:
                waited = settle_disk()
                log(
                    f"{key} …"
                    + (
                        f" (after {waited:.1f} s for the disk to write out the last one's files)"
                        if waited >= 1
                        else ""
                    )
                )
                try:
                    rows.extend(action())
                except Exception as exc:  # one section failing must not hide the others' figures
                    errors[key] = f"{type(exc).__name__}: {exc}"
                    log(f"  {key} failed: {errors[key]}")
                    rows.extend(not_measured(ROW_SKELETON[key], errors[key][:200]))

            section("gas", lambda: gas.rows(gas.measure(s)))
            kept: list[IssueRun] = []

            def issuance() -> list[Row]:
                got, run_ = measure_issuance(s, cfg, work, deadline, log)
                kept.append(run_)
                return got

            section("issuance", issuance)
            documents = [p.read_bytes() for p in kept[0].files] if kept else []
            oa_batch = next((r.peers.get("oa_lib") for r in rows if r.id == "issue.wrap_write"), None)
            section(
                "export_vc",
                lambda: (
                    measure_export_vc(documents, oa_batch, cfg, work, deadline, log)
                    if documents
                    else not_measured(ROW_SKELETON["export_vc"], "no issued documents")
                ),
            )
            section(
                "verify_library",
                lambda: (
                    [measure_verify_library(s, documents, cfg, deadline, log)]
                    if documents
                    else not_measured(ROW_SKELETON["verify_library"], "no issued documents")
                ),
            )
            library_rate = next((r.credreg for r in rows if r.id == "verify.library"), None)
            section(
                "verify_api",
                lambda: (
                    measure_verify_api(s, documents, cfg, work, deadline, log, library_rate)
                    if documents
                    else not_measured(ROW_SKELETON["verify_api"], "no issued documents")
                ),
            )
            section(
                "cli",
                lambda: (
                    measure_cli(s, kept[0].files, library_rate, cfg, work, deadline, log)
                    if kept
                    else not_measured(ROW_SKELETON["cli"], "no issued documents")
                ),
            )
            section("batch_upload", lambda: measure_batch_upload(s, cfg, work, deadline, log))
            ledgers: list[BuiltLedger] = []

            def audit_rows() -> list[Row]:
                got, built = measure_audit(s, cfg, deadline, log)
                ledgers.append(built)
                return got

            section("audit", audit_rows)

            missed = {row.id for row in rows for t in row.targets if t.status == "missed"}
            if profile_dir is not None and missed:
                profile_dir.mkdir(parents=True, exist_ok=True)
                if "issue.end_to_end" in missed:
                    profiles["issue.end_to_end"] = profile_call(
                        "issue", lambda: issue_once(s, work, cfg.batch, 7, deadline), profile_dir
                    )
                if "verify.library" in missed and documents:
                    profiles["verify.library"] = profile_call(
                        "verify", lambda: verify_documents(s.registry, documents), profile_dir
                    )
                if "audit.replay_rate" in missed and ledgers:
                    path = profile_dir / "profile-replay.pstats"
                    built = ledgers[0]
                    run_replay(s.chain.url, built.manifest, built.churn_last, deadline, profile_out=path)
                    profiles["audit.replay_rate"] = summarize_profile(path)
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    order = {row_id: i for i, row_id in enumerate(ROW_IDS)}
    rows.sort(key=lambda r: order.get(r.id, len(order)))
    info["machine"]["load_average_end"] = os.getloadavg()
    result = {
        "benchmark": "credreg",
        "configuration": asdict(cfg),
        "command": " ".join([Path(sys.executable).name, "scripts/bench", *sys.argv[1:]]),
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": time.perf_counter() - started,
        **info,
        "peers": PEERS,
        "ratio": "credreg ÷ peer (below 1: credreg uses less gas or takes less time)",
        "rows": [asdict(row) for row in rows],
        "targets": [{"row": row.id, **asdict(t)} for row in rows for t in row.targets],
        "errors": errors,
        "profiles": profiles,
    }
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return result


def report(result: dict[str, Any], out_path: Path) -> str:
    rows = [Row(**{**r, "targets": [Target(**t) for t in r["targets"]]}) for r in result["rows"]]
    m = result["machine"]
    lines = [
        f"credreg benchmark ({result['configuration']['name']}, median of {result['configuration']['runs']} "
        f"run(s); gas measured once) on {m['cpu']}, {m['cores_usable']} cores, load average "
        f"{m['load_average_start'][0]:.1f} at start, {m['load_average_end'][0]:.1f} at end",
        "Peer columns: the peer's figure and, in brackets, credreg ÷ peer (below 1: credreg uses less gas or",
        "takes less time). Gas is each transaction's gasUsed, 21,000 base and calldata included.",
        "",
        render(rows, PEERS),
        "",
    ]
    for row in rows:
        phases = row.detail.get("phases")
        if row.id == "issue.end_to_end" and phases:
            spent = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in phases.items())
            lines.append(f"Where issuing {row.detail['size']:,} certificates spends its time: {spent}.")
        if row.id == "verify.api_rate" and row.credreg and "in_process_ms_per_document" in row.detail:
            lines.append(
                f"Verifying one document takes {row.detail['in_process_ms_per_document']:.1f} ms in-process "
                f"(its ledger reads included); through HTTP, `credreg serve --workers "
                f"{row.detail.get('server_workers', API_SERVER_WORKERS)}` answers {row.credreg:,.0f} a second."
            )
        if row.id == "cli.verify_one" and "cpu_seconds" in row.detail:
            help_row = next((r for r in rows if r.id == "cli.help"), None)
            help_cpu = help_row.detail.get("cpu_seconds") if help_row else None
            lines.append(
                f"CPU time of one start (what a shared machine's load does not inflate): python -c pass "
                f"{row.detail['baseline_cpu_seconds']:.2f} s, credreg --help "
                f"{'—' if help_cpu is None else f'{help_cpu:.2f}'} s, credreg verify one.json "
                f"{row.detail['cpu_seconds']:.2f} s."
            )
        if row.id == "audit.replay_rate" and row.detail.get("runs"):
            first = row.detail["runs"][0]
            reads = first.get("log_reads") or {}
            if reads.get("calls"):
                lines.append(
                    f"The replay read {reads['logs']:,} logs in {reads['calls']} eth_getLogs calls for "
                    f"{first['events']:,} events (largest reply {reads['largest']:,} logs); its peak memory "
                    f"was {first['peak_rss_mb'] - first['baseline_rss_mb']:,.0f} MB above its start."
                )
    missed = [t for t in result["targets"] if t["status"] == "missed"]
    met = [t for t in result["targets"] if t["status"] == "met"]
    lines.append(
        f"Targets: {len(met)} met, {len(missed)} missed, {len(result['targets']) - len(met) - len(missed)} not applicable."
    )
    for t in missed:
        lines.append(f"  MISSED {t['row']}: {t['text']}")
    for name, text in result["profiles"].items():
        lines += ["", f"Profile of {name} (the missed target's code, by own time):", text]
    for key, why in result["errors"].items():
        lines.append(f"ERROR in {key}: {why}")
    lines.append(f"Written to {out_path} ({result['seconds']:.0f} s in all).")
    return "\n".join(lines)


COMMANDS: dict[str, Callable[[Sequence[str]], int | None]] = {
    "gas": gas.main,
    "wrap": wrap.main,
    "audit": audit.main,
    "audit-scale": audit_scale.main,
    "upload": upload_main,
}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in COMMANDS:
        return COMMANDS[argv[0]](argv[1:]) or 0
    parser = argparse.ArgumentParser(
        prog="python scripts/bench",
        description=bench.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--quick", action="store_true", help="the smallest configuration (seconds, not minutes)"
    )
    parser.add_argument(
        "--runs", type=int, help="repetitions of each timed figure (default 3, 1 with --quick)"
    )
    parser.add_argument("--no-large", action="store_true", help="skip the 100,000-certificate issuance")
    parser.add_argument(
        "--oa-large", action="store_true", help="also run OpenAttestation's wrapping at 100,000"
    )
    parser.add_argument(
        "--out", type=Path, help="where to write the JSON (default bench-results/bench-<time>.json)"
    )
    parser.add_argument(
        "--profile", type=Path, metavar="DIR", help="profile the code behind missed targets into DIR"
    )
    parser.add_argument("--keep", action="store_true", help="keep the working directory (documents, logs)")
    parser.add_argument("--strict", action="store_true", help="exit with status 1 when a target is missed")
    args = parser.parse_args(argv)
    cfg = QUICK if args.quick else FULL
    if args.runs is not None:
        if not 1 <= args.runs <= 20:
            parser.error("--runs must be between 1 and 20")
        cfg = Config(**{**asdict(cfg), "runs": args.runs})
    if args.no_large:
        cfg = Config(**{**asdict(cfg), "sizes": (cfg.sizes[0], cfg.sizes[1], cfg.sizes[1] * 2)})
    if args.oa_large:
        cfg = Config(**{**asdict(cfg), "oa_sizes": tuple(sorted({*cfg.oa_sizes, cfg.sizes[2]}))})
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out_path = args.out or PROJECT_ROOT / "bench-results" / f"bench-{stamp}-{cfg.name}.json"

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    result = run(cfg, out_path, args.profile, args.keep, log)
    print(report(result, out_path))
    if result["errors"]:
        return 2
    if args.strict and any(t["status"] == "missed" for t in result["targets"]):
        return 1
    return 0
