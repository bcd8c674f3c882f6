"""Results files: every row becomes a certificate, or the error names each broken row and column."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from documents_factories import AGENCY, CONTEXT, REGISTRY, resident_id

from credreg.documents import (
    CompetitionAwardCertificate,
    SkillLevelCertificate,
    TechnicalGradeCertificate,
    read_results,
    scope_id,
)
from credreg.errors import DocumentError, ResultsFileError


def row(n: int, kind: str = "skill_level", **overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "kind": kind,
        "certificate_number": f"S2025{n:06d}",
        "holder_name": ["王芳", "李强", "Zhang Min"][n % 3],
        "holder_id_type": "resident_id",
        "holder_id_number": resident_id(n),
        "occupation_code": "4-01-02-01",
        "occupation_title": "电子商务师",
        "level": "4",
        "issue_date": "2025-07-01",
        "valid_until": "",
    }
    if kind == "competition_award":
        base.update(
            competition_name="全国职业技能大赛",
            competition_date="2025-05-01",
            competition_award="银牌",
            competition_rank="2",
        )
    else:
        base.update(
            assessment_date="2025-06-15",
            assessment_session_id="S-15",
            assessment_location="上海",
            assessment_score="91",
        )
    if kind == "technical_grade":
        base["grade_title"] = "工程师"
    base.update(overrides)
    return base


def write_csv(path: Path, rows: list[dict[str, Any]], bom: bool = False) -> Path:
    columns = list(dict.fromkeys(c for r in rows for c in r))
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_a_csv_of_every_kind_reads_into_certificates(tmp_path: Path) -> None:
    rows = [row(0), row(1, "technical_grade"), row(2, "competition_award"), row(3, valid_until="2030-07-01")]
    certificates = read_results(write_csv(tmp_path / "results.csv", rows, bom=True), context=CONTEXT)
    assert [type(c) for c in certificates] == [
        SkillLevelCertificate,
        TechnicalGradeCertificate,
        CompetitionAwardCertificate,
        SkillLevelCertificate,
    ]
    first = certificates[0]
    assert isinstance(first, SkillLevelCertificate)
    assert first.holder.name == "王芳"
    assert first.level == 4
    assert first.assessment.score == 91
    assert first.valid_until is None
    assert first.agency == AGENCY
    assert first.registry == REGISTRY
    assert first.scope_id == scope_id("4-01-02-01", 4)
    assert certificates[3].valid_until is not None


def test_scores_that_are_not_canonical_integers_stay_text(tmp_path: Path) -> None:
    rows = [
        row(0, assessment_score="87.5"),
        row(1, assessment_score="007"),
        row(2, assessment_score="合格"),
        row(3, assessment_score=""),
    ]
    scores = [c.assessment.score for c in read_results(write_csv(tmp_path / "r.csv", rows), context=CONTEXT)]  # type: ignore[union-attr]
    assert scores == ["87.5", "007", "合格", None]


def test_json_lines_read_with_typed_values_and_a_file_kind(tmp_path: Path) -> None:
    lines = [
        json.dumps({**row(n), "level": 4, "assessment_score": 90 + n}, ensure_ascii=False) for n in range(3)
    ]
    path = tmp_path / "results.jsonl"
    path.write_text("\n".join(lines[:2]) + "\n\n" + lines[2] + "\n", encoding="utf-8")
    certificates = read_results(path, context=CONTEXT, kind="skill_level")
    assert [c.assessment.score for c in certificates] == [90, 91, 92]  # type: ignore[union-attr]


def test_open_files_text_or_binary_need_a_format_without_a_name() -> None:
    text = io.StringIO()
    writer = csv.DictWriter(text, list(row(0)))
    writer.writeheader()
    writer.writerow(row(0))
    assert len(read_results(io.StringIO(text.getvalue()), context=CONTEXT, file_format="csv")) == 1
    assert len(read_results(io.BytesIO(text.getvalue().encode()), context=CONTEXT, file_format="csv")) == 1
    with pytest.raises(ResultsFileError, match="unknown format"):
        read_results(io.StringIO(text.getvalue()), context=CONTEXT)


def test_broken_rows_are_all_named_and_nothing_is_returned(tmp_path: Path) -> None:
    rows = [
        row(0),
        row(1, level="six"),
        row(2, holder_id_number=resident_id(2)[:17] + ("0" if resident_id(2)[17] != "0" else "1")),
        row(3, issue_date="2025/07/01"),
        row(4),
        row(5, holder_name=""),
        row(6, certificate_number="S2025000000"),
    ]
    with pytest.raises(ResultsFileError) as caught:
        read_results(write_csv(tmp_path / "r.csv", rows), context=CONTEXT)
    error = caught.value
    found = {(p.row, p.field) for p in error.problems}
    assert found == {
        (3, "level"),
        (4, "holder_id_number"),
        (5, "issue_date"),
        (7, "holder_name"),
        (8, "certificate_number"),
    }
    assert error.total == 5
    assert (error.row, error.field) == (3, "level")
    assert "row 3, field 'level'" in str(error)
    assert "row 8" in str(error)
    assert "also on row 2" in str(error)
    assert isinstance(error, DocumentError)


def test_only_the_first_few_problems_are_listed(tmp_path: Path) -> None:
    rows = [row(n, level="x") for n in range(30)]
    with pytest.raises(ResultsFileError) as caught:
        read_results(write_csv(tmp_path / "r.csv", rows), context=CONTEXT, max_errors=5)
    assert len(caught.value.problems) == 5
    assert caught.value.total == 30
    assert "and 25 more" in str(caught.value)


@pytest.mark.parametrize(
    ("overrides", "column", "message"),
    [
        ({"competition_name": "大赛"}, "competition_name", "not used by skill_level"),
        ({"grade_title": "工程师"}, "grade_title", "not used by skill_level"),
        ({"kind": "diploma"}, "kind", "expected one of"),
        ({"assessment_date": ""}, "assessment_date", "required"),
        ({"assessment_date": "2025-08-01"}, None, "after issue_date"),
        ({"valid_until": "2025-01-01"}, None, "before issue_date"),
        ({"holder_id_type": "licence"}, "holder_id_type", "resident_id"),
        ({"level": "9"}, "level", "less than or equal to 5"),
        ({"level": "3.0"}, "level", "whole number"),
        ({"occupation_code": "4 01"}, "occupation_code", "D-DD-DD-DD"),
        ({"occupation_code": "2-02-1009"}, "occupation_code", "e.g. 4-04-05-06"),
        ({"occupation_code": "2-02-10-099"}, "occupation_code", "D-DD-DD-DD"),
    ],
)
def test_row_problems_name_the_column(
    tmp_path: Path, overrides: dict[str, Any], column: str | None, message: str
) -> None:
    with pytest.raises(ResultsFileError) as caught:
        read_results(write_csv(tmp_path / "r.csv", [row(0), row(1, **overrides)]), context=CONTEXT)
    [problem] = caught.value.problems
    assert (problem.row, problem.field) == (3, column)
    assert message in problem.message


def test_dates_beyond_the_horizon_are_refused_as_typing_errors(tmp_path: Path) -> None:
    far = write_csv(
        tmp_path / "r.csv",
        [row(0, valid_until="2301-06-30"), row(1, issue_date="9025-07-01", assessment_date="2025-06-15")],
    )
    with pytest.raises(ResultsFileError) as caught:
        read_results(far, context=CONTEXT)
    assert [(p.row, p.field) for p in caught.value.problems] == [(2, "valid_until"), (3, "issue_date")]
    assert "2301-06-30 is more than 100 years ahead" in caught.value.problems[0].message

    near = write_csv(tmp_path / "near.csv", [row(0, valid_until="2035-06-30")])
    with pytest.raises(ResultsFileError) as caught:
        read_results(near, context=CONTEXT, horizon_years=5)
    assert caught.value.problems[0].field == "valid_until"
    assert len(read_results(near, context=CONTEXT, horizon_years=20)) == 1


def test_header_problems_are_reported_once(tmp_path: Path) -> None:
    with pytest.raises(ResultsFileError) as caught:
        read_results(
            write_csv(tmp_path / "r.csv", [{**row(0), "valid_untill": "2030-01-01"}]), context=CONTEXT
        )
    assert (caught.value.row, caught.value.field) == (1, "valid_untill")
    missing = {k: v for k, v in row(0).items() if k != "holder_name"}
    with pytest.raises(ResultsFileError, match="missing column"):
        read_results(write_csv(tmp_path / "m.csv", [missing]), context=CONTEXT)


def test_json_lines_problems_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text(
        "\n".join(
            [
                json.dumps(row(0), ensure_ascii=False),
                json.dumps({**row(1), "assessment_score": 87.5}, ensure_ascii=False),
                "{not json",
                "[1, 2]",
                json.dumps({**row(4), "level": True}),
                json.dumps({**row(5), "nickname": "x"}),
                json.dumps({**row(6), "level": 1e3}),
            ]
        ),
        encoding="utf-8",
    )
    with pytest.raises(ResultsFileError) as caught:
        read_results(path, context=CONTEXT)
    found = [(p.row, p.field) for p in caught.value.problems]
    assert found == [
        (2, "assessment_score"),
        (3, None),
        (4, None),
        (5, "level"),
        (6, "nickname"),
        (7, "level"),
    ]
    assert "87.5 is a float" in caught.value.problems[0].message


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "no header"),
        (b"kind,certificate_number\n", "missing column"),
        ("\ufeff".encode() + b"\xff\xfe broken", "not UTF-8"),
    ],
)
def test_files_that_are_not_results_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes(content)
    with pytest.raises(ResultsFileError, match=message):
        read_results(path, context=CONTEXT)


def test_a_missing_file_and_an_empty_results_file(tmp_path: Path) -> None:
    with pytest.raises(ResultsFileError, match="cannot read"):
        read_results(tmp_path / "absent.csv", context=CONTEXT)
    header_only = tmp_path / "h.csv"
    header_only.write_text(",".join(row(0)) + "\n", encoding="utf-8")
    with pytest.raises(ResultsFileError, match="no results"):
        read_results(header_only, context=CONTEXT)


def test_too_many_cells_and_a_kind_that_contradicts_the_file(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", [row(0)])
    path.write_text(
        path.read_text(encoding="utf-8") + ",".join(row(1).values()) + ",extra\n", encoding="utf-8"
    )
    with pytest.raises(ResultsFileError, match="cells but the header has"):
        read_results(path, context=CONTEXT)
    with pytest.raises(ResultsFileError, match="in a file of technical_grade"):
        read_results(write_csv(tmp_path / "k.csv", [row(0)]), context=CONTEXT, kind="technical_grade")


def test_ten_thousand_rows_read(tmp_path: Path) -> None:
    rows = [row(n) for n in range(10_000)]
    assert len(read_results(write_csv(tmp_path / "big.csv", rows), context=CONTEXT)) == 10_000
