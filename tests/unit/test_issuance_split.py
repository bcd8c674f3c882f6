"""Where `credreg issue` cuts a large results file in two: always at the start of a row."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from credreg import issuance


@pytest.fixture(autouse=True)
def _any_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(issuance, "SPLIT_FROM_BYTES", 0)
    monkeypatch.setattr(issuance, "usable_cores", lambda: 2)


def _rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def test_a_csv_file_is_cut_outside_a_quoted_cell_that_spans_lines(tmp_path: Path) -> None:
    header = b"certificate_number,holder_name\n"
    rows = [b'N%05d,"line one\nline two, ""quoted""\nline three"\n' % i for i in range(500)]
    path = tmp_path / "r.csv"
    path.write_bytes(header + b"".join(rows))
    cut = issuance._split_point(path, "csv")
    assert cut is not None
    at, given = cut
    data = path.read_bytes()
    assert given == header
    assert data[:at].count(b'"') % 2 == 0
    first, second = _rows(data[:at]), _rows(header + data[at:])
    assert first[0] == second[0] == ["certificate_number", "holder_name"]
    assert first[1:] + second[1:] == _rows(data)[1:], "the halves hold the file's rows, in order"


def test_a_header_with_quotes_or_a_format_not_named_is_not_cut(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes(b'"certificate_number",holder_name\n' + b"N1,A\n" * 200)
    assert issuance._split_point(path, "csv") is None
    assert issuance._split_point(path, None) is None


def test_a_json_lines_file_is_cut_after_a_newline(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_bytes(
        b"".join(b'{"certificate_number": "N%d", "note": "a \\"b\\""}\n' % i for i in range(300))
    )
    cut = issuance._split_point(path, "jsonl")
    assert cut is not None
    at, header = cut
    assert header == b""
    assert path.read_bytes()[at - 1 : at] == b"\n"
    assert 0 < at < path.stat().st_size
