"""The table the benchmark prints, the rows of each part, and the machine, versions and commit it ran on."""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import math
import os
import platform
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.core import (
    PROJECT_ROOT,
    Row,
)
from bench.peers import (
    DOCUMENT_STORE_PACKAGE,
    DOCUMENT_STORE_V4_PACKAGE,
    EAS_PACKAGE,
)
from credreg.paths import node_tool

# --- machine, versions, output -------------------------------------------------------------------------


def _npm_version(package: str) -> str | None:
    path = PROJECT_ROOT / "node_modules" / package / "package.json"
    try:
        return str(json.loads(path.read_text(encoding="utf-8"))["version"])
    except (OSError, ValueError, KeyError):
        return None


def _command_output(cmd: list[str]) -> str | None:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False, cwd=PROJECT_ROOT)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def machine() -> dict[str, Any]:
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory_gb = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)),
        "memory_gb": memory_gb,
        "load_average_start": os.getloadavg(),
    }


def versions() -> dict[str, Any]:
    packages = ("credreg", "web3", "eth-account", "eth-abi", "fastapi", "pydantic", "uvicorn", "httpx")
    py: dict[str, str | None] = {}
    for name in packages:
        try:
            py[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            py[name] = None
    npm = {
        name: _npm_version(name)
        for name in (
            "@govtechsg/open-attestation",
            DOCUMENT_STORE_PACKAGE.rsplit("@", 1)[0],
            DOCUMENT_STORE_V4_PACKAGE.rsplit("@", 1)[0],
            EAS_PACKAGE.rsplit("@", 1)[0],
            "@foundry-rs/anvil",
            "solc",
        )
    }
    artifact = json.loads(
        (PROJECT_ROOT / "src" / "credreg" / "chain" / "artifacts" / "CredentialRegistry.json").read_text()
    )
    return {
        "python": platform.python_version(),
        "node": _command_output(["node", "--version"]),
        "anvil": _command_output([str(node_tool("anvil")), "--version"]),
        "solc": artifact.get("compiler", {}).get("version"),
        "solc_settings": artifact.get("compiler", {}).get("settings"),
        "python_packages": py,
        "npm_packages": npm,
    }


def git_commit() -> dict[str, Any]:
    commit = _command_output(["git", "rev-parse", "HEAD"])
    status = _command_output(["git", "status", "--porcelain"])
    return {"commit": commit, "dirty": bool(status)}


def fmt(value: float | None, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if unit == "gas":
        return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"
    if unit in ("s", "ms", "MB", "KB"):
        return f"{value:,.2f}" if value < 10 else f"{value:,.1f}"
    return f"{value:,.0f}"


def render(rows: list[Row], peer_names: dict[str, str]) -> str:
    headers = ["figure", "unit", "credreg", *peer_names.values(), "target", "status"]
    table: list[list[str]] = [headers]
    for row in rows:
        cells = [
            row.label,
            row.unit,
            fmt(row.credreg, row.unit) if row.credreg is not None else (row.note or "—"),
        ]
        for peer in peer_names:
            value = row.peers.get(peer)
            ratio = row.ratio(peer)
            cells.append(
                ""
                if value is None
                else f"{fmt(value, row.unit)} ({ratio:.2f}×)"
                if ratio
                else fmt(value, row.unit)
            )
        cells.append("; ".join(t.text for t in row.targets))
        cells.append(
            "; ".join(t.status + (f" ({t.why})" if t.why and t.status == "n/a" else "") for t in row.targets)
        )
        table.append(cells)
    widths = [max(len(line[i]) for line in table) for i in range(len(headers))]
    lines = []
    for i, line in enumerate(table):
        lines.append(
            "  ".join(
                cell.ljust(widths[j])
                if j in (0, 1, len(headers) - 2, len(headers) - 1)
                else cell.rjust(widths[j])
                for j, cell in enumerate(line)
            ).rstrip()
        )
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def not_measured(ids_labels: Sequence[tuple[str, str, str, str]], why: str) -> list[Row]:
    return [
        Row(i, section, label, unit, None, note=f"not measured: {why}")
        for i, section, label, unit in ids_labels
    ]


ROW_SKELETON: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    "gas": (
        ("gas.issue_single", "gas", "gas per credential: issue one", "gas"),
        ("gas.root_100", "gas", "gas per credential: batch of 100, one root", "gas"),
        ("gas.each_100", "gas", "gas per credential: 100 entries in one call", "gas"),
        ("gas.root_10000", "gas", "gas per credential: batch of 10,000, one root", "gas"),
        ("gas.revoke_single", "gas", "gas: revoke a single-document credential", "gas"),
        ("gas.revoke_leaf", "gas", "gas: revoke one of a 10,000 batch (depth 14)", "gas"),
    ),
    "issuance": (
        ("issue.end_to_end", "issuance", "issue a batch end to end", "s"),
        ("issue.wrap_write", "issuance", "wrap + write a batch (no ledger)", "s"),
        ("growth.1", "growth", "issue end to end, small", "s"),
        ("growth.2", "growth", "issue end to end, medium", "s"),
        ("growth.3", "growth", "issue end to end, large", "s"),
        ("issue.national", "issuance", "credreg issue of a national batch, a file each", "certs/s"),
        ("issue.national_archive", "issuance", "credreg issue of a national batch, one archive", "certs/s"),
        ("issue.national_memory", "issuance", "credreg issue of a national batch: peak memory", "MB"),
        ("verify.national_archive", "verification", "credreg verify of the national archive", "certs/s"),
        (
            "verify.national_archive_memory",
            "verification",
            "credreg verify of the national archive: memory",
            "MB",
        ),
    ),
    "export_vc": (("issue.export_vc", "issuance", "export a batch as VC 2.0 and write it", "s"),),
    "verify_library": (("verify.library", "verification", "verify documents in one batch", "docs/s"),),
    "verify_api": (
        ("verify.api_rate", "verification", "POST /v1/verify, documents/s", "docs/s"),
        ("verify.api_p50", "verification", "POST /v1/verify, median latency", "ms"),
        ("verify.api_p99", "verification", "POST /v1/verify, p99 latency", "ms"),
        ("verify.api_lists", "verification", "POST /v1/verify, lists of documents, documents/s", "docs/s"),
    ),
    "cli": (
        ("cli.help", "command line", "credreg --help, a fresh process", "s"),
        ("cli.verify_one", "command line", "credreg verify one.json, its ledger read included", "s"),
        ("verify.cli_bulk", "verification", "credreg verify over many files", "docs/s"),
        ("verify.cli_bulk_one_process", "verification", "credreg verify over many files, --jobs 1", "docs/s"),
    ),
    "batch_upload": (
        ("upload.national", "service", "POST /v1/batches/uploads of a national batch, leaves/s", "leaves/s"),
        ("upload.national_memory", "service", "POST /v1/batches/uploads: the service's peak memory", "MB"),
    ),
    "audit": (
        ("audit.replay_rate", "audit", "replay the ledger", "events/s"),
        ("audit.peak_memory", "audit", "replay peak memory (whole process RSS)", "MB"),
        ("audit.memory_growth", "audit", "replay memory growth per 1,000 events", "KB"),
    ),
}
ROW_IDS: tuple[str, ...] = tuple(row[0] for rows in ROW_SKELETON.values() for row in rows)
