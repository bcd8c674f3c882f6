"""The benchmark's smallest configuration runs end to end and reports every figure (nothing is timed here)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]

GAS_ROWS = (
    "gas.issue_single",
    "gas.root_100",
    "gas.each_100",
    "gas.root_10000",
    "gas.revoke_single",
    "gas.revoke_leaf",
)
ISSUANCE_ROWS = (
    "issue.end_to_end",
    "issue.wrap_write",
    "issue.export_vc",
    "growth.1",
    "growth.2",
    "growth.3",
)
NATIONAL_ROWS = ("issue.national", "issue.national_archive", "issue.national_memory")
NATIONAL_VERIFY_ROWS = ("verify.national_archive", "verify.national_archive_memory")
OTHER_ROWS = (
    "verify.library",
    "verify.api_rate",
    "verify.api_p50",
    "verify.api_p99",
    "verify.api_lists",
    "upload.national",
    "upload.national_memory",
    "upload.status_list_memory",
    "upload.status_batches_memory",
    "verify.cli_bulk",
    "verify.cli_bulk_one_process",
    "cli.help",
    "cli.verify_one",
    "audit.replay_rate",
    "audit.peak_memory",
    "audit.memory_growth",
    "audit.scale_rate",
    "audit.scale_peak_memory",
)
EVERY_ROW = GAS_ROWS + ISSUANCE_ROWS + NATIONAL_ROWS + NATIONAL_VERIFY_ROWS + OTHER_ROWS


@pytest.fixture(scope="module")
def quick_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    done = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "scripts" / "bench"), "--quick", "--out", str(out)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done, json.loads(out.read_text(encoding="utf-8"))


def _rows(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["id"]: row for row in result["rows"]}


@pytest.mark.slow
def test_quick_bench_reports_every_row_once(quick_run: tuple[Any, dict[str, Any]]) -> None:
    _, result = quick_run
    ids = [row["id"] for row in result["rows"]]
    assert sorted(ids) == sorted(EVERY_ROW)


@pytest.mark.slow
def test_quick_bench_measures_every_row(quick_run: tuple[Any, dict[str, Any]]) -> None:
    _, result = quick_run
    unmeasured = {
        row["id"]: row["note"]
        for row in result["rows"]
        if not isinstance(row["credreg"], int | float) or not math.isfinite(row["credreg"])
    }
    assert unmeasured == {}
    assert result["errors"] == {}


@pytest.mark.slow
def test_quick_bench_sets_the_peers_beside_credreg(quick_run: tuple[Any, dict[str, Any]]) -> None:
    _, result = quick_run
    rows = _rows(result)
    single = rows["gas.issue_single"]["peers"]
    assert {peer for peer, gas in single.items() if gas and gas > 21_000} == {"ds3", "ds4", "eas"}
    assert rows["gas.each_100"]["peers"]["eas"] > rows["gas.each_100"]["peers"]["ds3"] > 0
    assert all(rows[row_id]["peers"]["oa_lib"] > 0 for row_id in ISSUANCE_ROWS)
    # the floor or baseline beside each figure that has one
    for row_id in (
        "verify.library",
        "verify.cli_bulk",
        "verify.cli_bulk_one_process",
        "cli.help",
        "cli.verify_one",
        *NATIONAL_ROWS,
    ):
        assert rows[row_id]["peers"]["base"] > 0, row_id
    assert rows["verify.cli_bulk"]["peers"]["base"] == rows["verify.library"]["credreg"]


@pytest.mark.slow
def test_quick_bench_judges_targets_and_records_the_run(quick_run: tuple[Any, dict[str, Any]]) -> None:
    _, result = quick_run
    statuses = {(t["row"], t["text"]): t["status"] for t in result["targets"]}
    assert set(statuses.values()) <= {"met", "missed", "n/a"}
    judged = {row for row, _ in statuses}
    assert {"gas.issue_single", "gas.root_10000", "issue.end_to_end", "verify.library"} <= judged
    assert {"verify.api_p99", "audit.replay_rate", "audit.memory_growth"} <= judged
    assert {"cli.help", "cli.verify_one", "verify.cli_bulk"} <= judged
    assert result["configuration"]["name"] == "quick"
    versions = result["versions"]
    assert [name for name in ("python", "node", "anvil", "solc") if not versions[name]] == []
    assert result["versions"]["npm_packages"]["@govtechsg/open-attestation"]
    assert result["machine"]["cores"] >= 1
    assert "commit" in result["git"]


@pytest.mark.slow
def test_quick_bench_prints_one_table_with_every_row(quick_run: tuple[Any, dict[str, Any]]) -> None:
    done, result = quick_run
    table = done.stdout
    assert "credreg ÷ peer" in table
    missing = [row["label"] for row in result["rows"] if row["label"] not in table]
    assert missing == []
    assert "Targets:" in table
