"""Assessment results files (CSV or JSON lines) read into certificates, all or nothing.

One row is one certificate. Columns (CSV header / JSON-lines keys)::

    kind                  technical_grade | skill_level | competition_award (or `kind=` for the file)
    certificate_number    holder_name   holder_id_type   holder_id_number
    occupation_code       occupation_title   level (1..5)   grade_title (technical_grade only)
    issue_date            valid_until (optional)            dates as YYYY-MM-DD
    assessment_date   assessment_session_id   assessment_location   assessment_score
                                                  (technical_grade and skill_level)
    competition_name  competition_date  competition_award  competition_rank   (competition_award)

The agency, chain id and registry come from the `IssueContext`, not from the file. Empty cells are
absent values; unknown columns and columns that do not belong to a row's kind are errors (a misspelt
``valid_untill`` would otherwise be silently dropped). A score is an integer when written as one
(``87``) and text otherwise (``87.5``, ``合格``): no floats, so every verifier hashes it alike. JSON-lines
values may be strings, integers or null; a JSON float is an error.

An issue date or validity date more than `horizon_years` (100) years ahead is refused as a typing error.
Every row is checked before anything is returned; if any row is broken, `ResultsFileError` lists the
first `max_errors` problems, each with its line number and column, and nothing is returned. CSV files
are read as UTF-8 (a leading byte-order mark, as spreadsheet programs write it, is fine).
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import os
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import IO, Annotated, Any, Final, Literal, TypeAlias, cast

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from credreg.documents.model import (
    CERTIFICATE_KINDS,
    Address,
    AgencyRef,
    AnyCertificate,
    CertificateKind,
    CompetitionAwardCertificate,
    Holder,
    SkillLevelCertificate,
    TechnicalGradeCertificate,
)
from credreg.errors import ResultsFileError, RowProblem

__all__ = [
    "RESULTS_COLUMNS",
    "VALID_UNTIL_HORIZON_YEARS",
    "IssueContext",
    "ResultsFormat",
    "iter_results",
    "read_results",
]

ResultsFormat: TypeAlias = Literal["csv", "jsonl"]

_COMMON: Final = (
    "kind",
    "certificate_number",
    "holder_name",
    "holder_id_type",
    "holder_id_number",
    "occupation_code",
    "occupation_title",
    "level",
    "issue_date",
    "valid_until",
)
_ASSESSMENT: Final = ("assessment_date", "assessment_session_id", "assessment_location", "assessment_score")
_COMPETITION: Final = ("competition_name", "competition_date", "competition_award", "competition_rank")
RESULTS_COLUMNS: Final = (*_COMMON, "grade_title", *_ASSESSMENT, *_COMPETITION)
_BY_KIND: Final[dict[str, frozenset[str]]] = {
    "technical_grade": frozenset((*_COMMON, "grade_title", *_ASSESSMENT)),
    "skill_level": frozenset((*_COMMON, *_ASSESSMENT)),
    "competition_award": frozenset((*_COMMON, *_COMPETITION)),
}
_REQUIRED_EVERYWHERE: Final = frozenset(_COMMON) - {"kind", "valid_until"}
_INTEGER_COLUMNS: Final = frozenset({"level", "competition_rank"})
_CLASSES: Final[dict[str, type[AnyCertificate]]] = {
    "technical_grade": TechnicalGradeCertificate,
    "skill_level": SkillLevelCertificate,
    "competition_award": CompetitionAwardCertificate,
}
# Model location -> column, for naming the column in validation errors.
_LOC_TO_COLUMN: Final[dict[tuple[str, ...], str]] = {
    ("holder", "name"): "holder_name",
    ("holder", "id_type"): "holder_id_type",
    ("holder", "id_number"): "holder_id_number",
    ("holder",): "holder_id_number",
    ("assessment", "date"): "assessment_date",
    ("assessment", "session_id"): "assessment_session_id",
    ("assessment", "location"): "assessment_location",
    ("assessment", "score"): "assessment_score",
    ("competition", "name"): "competition_name",
    ("competition", "date"): "competition_date",
    ("competition", "award"): "competition_award",
    ("competition", "rank"): "competition_rank",
    ("scope_id",): "occupation_code",
}
# A date further ahead than this is a typing error (20310-06-30, 2301-06-30), not a credential's validity.
VALID_UNTIL_HORIZON_YEARS: Final = 100
_CANONICAL_INT = re.compile(r"-?(?:0|[1-9][0-9]{0,15})\Z")
_EXTENSIONS: Final[dict[str, ResultsFormat]] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


class IssueContext(BaseModel):
    """What every certificate of a results file shares: the issuing agency and the registry."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    agency: AgencyRef
    chain_id: int
    registry: Address


class _Float:
    def __init__(self, text: str) -> None:
        self.text = text


def read_results(
    source: str | os.PathLike[str] | IO[str] | IO[bytes],
    *,
    context: IssueContext,
    file_format: ResultsFormat | None = None,
    kind: CertificateKind | None = None,
    max_errors: int = 20,
    horizon_years: int = VALID_UNTIL_HORIZON_YEARS,
) -> list[AnyCertificate]:
    """Read every row of a results file into a certificate, or raise `ResultsFileError` and return nothing.

    `source` is a path or an open file (text or binary). The format comes from `file_format` or else the
    file name's extension (``.csv``, ``.jsonl``, ``.ndjson``). `kind` applies to rows without a ``kind``.
    """
    return [
        certificate
        for _, certificate in iter_results(
            source,
            context=context,
            file_format=file_format,
            kind=kind,
            max_errors=max_errors,
            horizon_years=horizon_years,
        )
    ]


def iter_results(
    source: str | os.PathLike[str] | IO[str] | IO[bytes],
    *,
    context: IssueContext,
    file_format: ResultsFormat | None = None,
    kind: CertificateKind | None = None,
    max_errors: int = 20,
    horizon_years: int = VALID_UNTIL_HORIZON_YEARS,
) -> Iterator[tuple[int, AnyCertificate]]:
    """`read_results` one row at a time, as ``(line, certificate)``, in memory that does not grow with the file.

    The checks are the same, but a broken file is only known at its end: the `ResultsFileError` comes after
    the last good row, so a caller must not act on the rows before the iteration has finished. Repeated
    certificate numbers are found from 20 bytes a row (a digest and the line), sorted at the end.
    """
    name = _source_name(source)
    fmt = file_format or _EXTENSIONS.get(Path(name).suffix.lower())
    if fmt not in ("csv", "jsonl"):
        raise ResultsFileError(
            name,
            [RowProblem(None, None, "unknown format: name it (csv or jsonl) or use a .csv/.jsonl file")],
            1,
        )
    limit = max(1, max_errors)
    problems = _Problems(limit)
    numbers = bytearray()  # 16-byte digest of each certificate number + its line, 4 bytes big-endian
    known: dict[tuple[tuple[str, Any], ...], AnyCertificate] = {}  # by `_shared_part`
    good = 0
    latest = _years_ahead(date.today(), horizon_years)
    with _open_text(source, name) as text:
        rows = _decoded(_csv_rows(text) if fmt == "csv" else _jsonl_rows(text), name)
        for line, row in rows:
            if isinstance(row, RowProblem):
                problems.add(row)
                continue
            shared = _shared_part(row)
            certificate = known.get(shared) if shared is not None else None
            if certificate is not None:
                certificate = _same_session(certificate, row)
            if certificate is None:
                certificate = _certificate(line, row, context, kind, problems)
                if certificate is None:
                    continue
                if shared is not None and len(known) < _KNOWN_SESSIONS:
                    known[shared] = certificate
            for column, value in (
                ("issue_date", certificate.issue_date),
                ("valid_until", certificate.valid_until),
            ):
                if value is not None and value > latest:
                    problems.add(
                        RowProblem(
                            line,
                            column,
                            f"{value.isoformat()} is more than {horizon_years} years ahead; check the year",
                        )
                    )
            numbers += _number_digest(certificate.certificate_number) + line.to_bytes(4, "big")
            good += 1
            if not problems.count:
                yield line, certificate
    _repeated_numbers(numbers, problems)
    if not problems.count and not good:
        problems.add(RowProblem(None, None, "the file has no results"))
    if problems.count:
        raise ResultsFileError(name, problems.first(), problems.count)


class _Problems:
    """The first `limit` problems by line, and how many there were in all."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.kept: list[RowProblem] = []
        self.count = 0

    def add(self, problem: RowProblem) -> None:
        self.count += 1
        self.kept.append(problem)
        if len(self.kept) > 2 * self.limit:
            self.kept = self.first()

    def append(self, problem: RowProblem) -> None:  # `_certificate` appends to a list
        self.add(problem)

    def __len__(self) -> int:
        return self.count

    def first(self) -> list[RowProblem]:
        return sorted(self.kept, key=lambda p: -1 if p.row is None else p.row)[: self.limit]


# The columns that differ from row to row of a session; a row whose other cells equal those of a row already
# read needs only these checked. Validating a whole row costs about 30 µs, these four about 8 µs.
_PER_ROW: Final = frozenset({"certificate_number", "holder_name", "holder_id_type", "holder_id_number"})
_KNOWN_SESSIONS: Final = 256
_NUMBER_FIELD = SkillLevelCertificate.model_fields["certificate_number"]
_NUMBER: Final[TypeAdapter[str]] = TypeAdapter(
    cast(Any, Annotated)[_NUMBER_FIELD.annotation, *_NUMBER_FIELD.metadata]
)


def _shared_part(row: dict[str, Any]) -> tuple[tuple[str, Any], ...] | None:
    """What a row shares with the other rows of its session: every cell but the `_PER_ROW` ones."""
    shared = tuple(item for item in row.items() if item[0] not in _PER_ROW)
    try:
        hash(shared)
    except TypeError:  # a JSON-lines row with a list or an object in it: checked the long way
        return None
    return shared


def _same_session(known: AnyCertificate, row: dict[str, Any]) -> AnyCertificate | None:
    """`known` with `row`'s number and holder, checked as the whole row would check them; None if any is
    not plain text or not valid (the long way then names the problem)."""
    number, name = row.get("certificate_number"), row.get("holder_name")
    id_type, id_number = row.get("holder_id_type"), row.get("holder_id_number")
    if not (type(number) is str and type(name) is str and type(id_type) is str and type(id_number) is str):
        return None
    try:
        holder = Holder.model_validate({"name": name, "id_type": id_type, "id_number": id_number})
        checked = _NUMBER.validate_python(number)
    except ValidationError:
        return None
    return known.model_copy(update={"certificate_number": checked, "holder": holder})


def _number_digest(number: str) -> bytes:
    return hashlib.blake2b(number.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _repeated_numbers(numbers: bytearray, problems: _Problems) -> None:
    """Rows whose certificate number an earlier row has, from the packed (digest, line) entries: sorted in
    256 buckets by the digest's first byte, so that Python objects exist for one bucket at a time (a
    million rows would otherwise hold 70 MB of them)."""
    buckets = [bytearray() for _ in range(256)]
    for at in range(0, len(numbers), 20):
        buckets[numbers[at]] += numbers[at : at + 20]
    for index, bucket in enumerate(buckets):
        entries = sorted(bytes(bucket[at : at + 20]) for at in range(0, len(bucket), 20))
        buckets[index] = bytearray()
        first_line = 0
        previous = b""
        for entry in entries:
            digest, line = entry[:16], int.from_bytes(entry[16:], "big")
            if digest == previous:
                message = f"the same certificate number is also on row {first_line}"
                problems.add(RowProblem(line, "certificate_number", message))
            else:
                previous, first_line = digest, line


def _years_ahead(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year + years, day=28)


def _source_name(source: object) -> str:
    if isinstance(source, str | os.PathLike):
        return os.fspath(source)
    name = getattr(source, "name", None)
    return name if isinstance(name, str) else "<results>"


@contextlib.contextmanager
def _open_text(source: str | os.PathLike[str] | IO[str] | IO[bytes], name: str) -> Iterator[IO[str]]:
    """The file as text, read as it is iterated: UTF-8, a leading byte-order mark dropped."""
    if isinstance(source, str | os.PathLike):
        try:
            raw: IO[bytes] = Path(source).open("rb")  # noqa: SIM115 (closed by the with below)
        except OSError as error:
            message = f"cannot read the file: {error.strerror or error}"
            raise ResultsFileError(name, [RowProblem(None, None, message)], 1) from None
        with raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as text:
            yield text
        return
    if isinstance(source, io.TextIOBase):
        yield cast(IO[str], source)
        return
    wrapped = io.TextIOWrapper(cast(IO[bytes], source), encoding="utf-8-sig", newline="")
    try:
        yield wrapped
    finally:
        wrapped.detach()  # the caller's file stays open


def _decoded(
    rows: Iterator[tuple[int, dict[str, Any] | RowProblem]], name: str
) -> Iterator[tuple[int, dict[str, Any] | RowProblem]]:
    """`rows`, with a decoding or reading error turned into a `ResultsFileError`."""
    line = 0
    try:
        for line, row in rows:
            yield line, row
        return
    except UnicodeDecodeError:
        message = f"not UTF-8 text (after line {line}); save the file as UTF-8"
    except OSError as error:
        message = f"cannot read the file: {error.strerror or error}"
    raise ResultsFileError(name, [RowProblem(None, None, message)], 1)


def _csv_rows(text: IO[str]) -> Iterator[tuple[int, dict[str, Any] | RowProblem]]:
    reader = csv.reader(text, strict=True)
    last_line = 0
    header: list[str] | None = None
    try:
        for cells in reader:
            line, last_line = last_line + 1, reader.line_num
            if not cells or all(not c.strip() for c in cells):
                continue
            if header is None:
                header = [c.strip() for c in cells]
                problem = _check_header(header, line)
                if problem is not None:
                    yield line, problem
                    return
                continue
            if len(cells) > len(header):
                yield (
                    line,
                    RowProblem(line, None, f"{len(cells)} cells but the header has {len(header)} columns"),
                )
                continue
            yield line, {col: cell for col, cell in zip(header, cells, strict=False) if cell.strip()}
    except csv.Error as error:
        yield last_line + 1, RowProblem(last_line + 1, None, f"not valid CSV: {error}")
    if header is None:
        yield 1, RowProblem(1, None, "the file has no header row")


def _check_header(header: list[str], line: int) -> RowProblem | None:
    seen: set[str] = set()
    for column in header:
        if column not in RESULTS_COLUMNS:
            return RowProblem(line, column, f"unknown column; the columns are {', '.join(RESULTS_COLUMNS)}")
        if column in seen:
            return RowProblem(line, column, "the column appears twice")
        seen.add(column)
    missing = sorted(_REQUIRED_EVERYWHERE - seen)
    if missing:
        return RowProblem(line, missing[0], f"missing column(s): {', '.join(missing)}")
    return None


def _jsonl_rows(text: IO[str]) -> Iterator[tuple[int, dict[str, Any] | RowProblem]]:
    for line, content in enumerate(text, start=1):
        if not content.strip():
            continue
        try:
            value = json.loads(content, parse_float=_Float, parse_constant=_Float)
        except ValueError as error:
            yield line, RowProblem(line, None, f"not valid JSON: {error}")
            continue
        if not isinstance(value, dict):
            yield line, RowProblem(line, None, "each line must be a JSON object")
            continue
        unknown = next((k for k in value if k not in RESULTS_COLUMNS), None)
        if unknown is not None:
            yield (
                line,
                RowProblem(line, unknown, f"unknown field; the fields are {', '.join(RESULTS_COLUMNS)}"),
            )
            continue
        yield line, {k: v for k, v in value.items() if v is not None and v != ""}


def _certificate(
    line: int,
    row: dict[str, Any],
    context: IssueContext,
    default_kind: CertificateKind | None,
    problems: _Problems,
) -> AnyCertificate | None:
    before = len(problems)
    for column, value in row.items():
        if isinstance(value, _Float):
            problems.append(
                RowProblem(line, column, f"{value.text} is a float; write it as a string or an integer")
            )
        elif isinstance(value, bool) or not isinstance(value, str | int):
            problems.append(RowProblem(line, column, f"expected text or an integer, got {json.dumps(value)}"))
    if len(problems) > before:
        return None
    kind = row.get("kind", default_kind)
    if default_kind is not None and kind != default_kind:
        problems.append(RowProblem(line, "kind", f"{kind!r} in a file of {default_kind} certificates"))
        return None
    if kind not in CERTIFICATE_KINDS:
        problems.append(
            RowProblem(line, "kind", f"expected one of {', '.join(CERTIFICATE_KINDS)}, got {kind!r}")
        )
        return None
    allowed = _BY_KIND[kind]
    for column in row:
        if column not in allowed:
            problems.append(RowProblem(line, column, f"not used by {kind} certificates; leave it empty"))
    for column in _INTEGER_COLUMNS & row.keys():
        value = row[column]
        if isinstance(value, str):
            if not _CANONICAL_INT.match(value.strip()):
                problems.append(RowProblem(line, column, f"expected a whole number, got {value!r}"))
            else:
                row[column] = int(value)
    if "assessment_score" in row and isinstance(row["assessment_score"], str):
        score = row["assessment_score"].strip()
        row["assessment_score"] = int(score) if _CANONICAL_INT.match(score) else score
    if len(problems) > before:
        return None

    raw: dict[str, Any] = {
        "certificate_number": row.get("certificate_number"),
        "holder": {
            "name": row.get("holder_name"),
            "id_type": row.get("holder_id_type"),
            "id_number": row.get("holder_id_number"),
        },
        "occupation_code": row.get("occupation_code"),
        "occupation_title": row.get("occupation_title"),
        "level": row.get("level"),
        "issue_date": row.get("issue_date"),
        "valid_until": row.get("valid_until"),
        "agency": context.agency,
        "chain_id": context.chain_id,
        "registry": context.registry,
    }
    if kind == "competition_award":
        raw["competition"] = {
            "name": row.get("competition_name"),
            "date": row.get("competition_date"),
            "award": row.get("competition_award"),
            "rank": row.get("competition_rank"),
        }
    else:
        raw["assessment"] = {
            "date": row.get("assessment_date"),
            "session_id": row.get("assessment_session_id"),
            "location": row.get("assessment_location"),
            "score": row.get("assessment_score"),
        }
        if kind == "technical_grade":
            raw["grade_title"] = row.get("grade_title")
    try:
        return _CLASSES[kind].model_validate(raw)
    except ValidationError as error:
        named: set[str | None] = set()
        for e in error.errors():
            where = _column(tuple(str(p) for p in e["loc"]))
            if where in named:
                continue  # one message per column: a union reports each alternative
            named.add(where)
            missing = e["type"] == "missing" or (where is not None and e.get("input") is None)
            message = "required" if missing else e["msg"].removeprefix("Value error, ")
            problems.append(RowProblem(line, where, message))
        return None


def _column(loc: tuple[str, ...]) -> str | None:
    for end in range(len(loc), 0, -1):
        column = _LOC_TO_COLUMN.get(loc[:end]) or (loc[0] if end == 1 and loc[0] in RESULTS_COLUMNS else None)
        if column is not None:
            return column
    return None
