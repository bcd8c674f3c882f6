"""Synthetic assessment results, for the demo, the tests and the benchmarks. Nobody in them is real."""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from credreg.documents.model import resident_id_check_digit
from credreg.documents.results import RESULTS_COLUMNS

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰"


@dataclass(frozen=True)
class SampleScope:
    occupation_code: str
    level: int
    occupation_title: str


BLOCKCHAIN_TECHNICIAN = SampleScope("4-04-05-06", 3, "区块链工程技术人员 Blockchain engineering technician")
AI_TECHNICIAN = SampleScope(
    "2-02-10-09", 3, "人工智能工程技术人员 Artificial intelligence engineering technician"
)


def _resident_id(rng: random.Random, born: date) -> str:
    first17 = f"110105{born:%Y%m%d}{rng.randrange(1000):03d}"
    return first17 + resident_id_check_digit(first17)


def sample_rows(
    count: int,
    scope: SampleScope = BLOCKCHAIN_TECHNICIAN,
    *,
    seed: int = 2026,
    issue_date: date = date(2026, 6, 30),
    valid_years: int | None = 3,
    prefix: str = "BJ",
) -> list[dict[str, str]]:
    """`count` skill-level results for one assessment session, reproducible from `seed`."""
    rng = random.Random(seed)
    valid_until = issue_date.replace(year=issue_date.year + valid_years) if valid_years else None
    session = f"{prefix}-{issue_date:%Y%m%d}-{scope.occupation_code}"
    rows = []
    for n in range(count):
        born = date(1975, 1, 1) + timedelta(days=rng.randrange(365 * 25))
        rows.append(
            {
                "kind": "skill_level",
                "certificate_number": f"{prefix}{issue_date:%Y}{scope.level}{n + 1:07d}",
                "holder_name": rng.choice(_SURNAMES)
                + "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2)))),
                "holder_id_type": "resident_id",
                "holder_id_number": _resident_id(rng, born),
                "occupation_code": scope.occupation_code,
                "occupation_title": scope.occupation_title,
                "level": str(scope.level),
                "issue_date": issue_date.isoformat(),
                "valid_until": valid_until.isoformat() if valid_until else "",
                "assessment_date": (issue_date - timedelta(days=14)).isoformat(),
                "assessment_session_id": session,
                "assessment_location": "北京市海淀区",
                "assessment_score": str(60 + rng.randrange(41)),
            }
        )
    return rows


def write_sample_results(
    path: Path, count: int, scope: SampleScope = BLOCKCHAIN_TECHNICIAN, **kwargs: object
) -> Path:
    """Write `sample_rows(count, scope, ...)` as a CSV results file."""
    rows = sample_rows(count, scope, **kwargs)  # type: ignore[arg-type]
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = [c for c in RESULTS_COLUMNS if c in rows[0]]
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer: csv.DictWriter[str] = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path
