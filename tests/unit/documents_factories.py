"""Certificates, document data and hypothesis strategies shared by the documents tests."""

from __future__ import annotations

import itertools
import json
import subprocess
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from credreg.documents import (
    CERTIFICATE_KINDS,
    MAX_SAFE_INTEGER,
    AgencyRef,
    Certificate,
    IssueContext,
    parse_certificate,
    resident_id_check_digit,
)

# The address anvil gives the first contract deployed by its first test account.
REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
CHAIN_ID = 31337
DOMAIN = "registry.example.org"
AGENCY = AgencyRef(id=7, name="某市职业技能鉴定指导中心")
CONTEXT = IssueContext(agency=AGENCY, chain_id=CHAIN_ID, registry=REGISTRY)
CROSSCHECK = Path(__file__).with_name("oa_crosscheck.js")
REPO = Path(__file__).resolve().parents[2]


def resident_id(n: int) -> str:
    """A well-formed resident ID number (valid check digit) for test person `n`."""
    first17 = f"110105{1970 + n % 40:04d}{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"
    return first17 + resident_id_check_digit(first17)


def certificate_fields(kind: str = "skill_level", n: int = 0, **overrides: Any) -> dict[str, Any]:
    """Plain fields of a valid certificate, as JSON would carry them."""
    fields: dict[str, Any] = {
        "kind": kind,
        "certificate_number": f"CR{2025:04d}{n:08d}",
        "holder": {"name": "张伟", "id_type": "resident_id", "id_number": resident_id(n)},
        "occupation_code": "6-31-01-03",
        "occupation_title": "电工",
        "level": 3,
        "issue_date": "2025-06-30",
        "valid_until": "2028-06-30",
        "agency": {"id": AGENCY.id, "name": AGENCY.name},
        "chain_id": CHAIN_ID,
        "registry": REGISTRY,
    }
    if kind == "competition_award":
        fields["competition"] = {"name": "全国职业技能大赛", "date": "2025-05-20", "award": "金牌", "rank": 1}
    else:
        fields["assessment"] = {
            "date": "2025-06-01",
            "session_id": "2025-06-A",
            "location": "北京",
            "score": 87,
        }
    if kind == "technical_grade":
        fields["grade_title"] = "高级工程师"
    fields.update(overrides)
    return fields


def make_certificate(kind: str = "skill_level", n: int = 0, **overrides: Any) -> Certificate:
    return parse_certificate(certificate_fields(kind, n, **overrides))


def run_crosscheck(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run OpenAttestation's JavaScript on `requests` (see oa_crosscheck.js), one answer per request."""
    result = subprocess.run(
        ["node", str(CROSSCHECK)],
        input=json.dumps({"requests": requests}, ensure_ascii=False),
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=REPO,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"node failed:\n{result.stderr}"
    answers: list[dict[str, Any]] = json.loads(result.stdout)["answers"]
    return answers


# --- strategies ------------------------------------------------------------------------------------

# Text a certificate field may hold: any letters, digits, punctuation and symbols, Chinese included.
_field_chars = st.characters(
    blacklist_categories=("Cc", "Cs", "Zs", "Zl", "Zp", "Cf", "Co", "Cn"),
)
field_text = st.one_of(
    st.text(_field_chars, min_size=1, max_size=12),
    st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), min_size=2, max_size=4),
)
dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31))


@st.composite
def certificates(draw: st.DrawFn, kind: str | None = None) -> Certificate:
    """Valid certificates of every kind, with varied (often Chinese) text and optional fields."""
    kind = kind or draw(st.sampled_from(CERTIFICATE_KINDS))
    n = draw(st.integers(0, 10**6))
    issued = draw(dates)
    before = issued - timedelta(days=draw(st.integers(0, 400)))
    valid_until = draw(st.none() | st.integers(0, 4000).map(lambda d: issued + timedelta(days=d)))
    fields = certificate_fields(
        kind,
        n,
        holder={
            "name": draw(field_text),
            "id_type": "passport",
            "id_number": draw(st.from_regex(r"[A-Z][0-9]{8}", fullmatch=True)),
        }
        if draw(st.booleans())
        else {"name": draw(field_text), "id_type": "resident_id", "id_number": resident_id(n)},
        occupation_code=draw(st.from_regex(r"[1-8]-[0-9]{2}-[0-9]{2}-[0-9]{2}", fullmatch=True)),
        occupation_title=draw(field_text),
        level=draw(st.integers(1, 5)),
        issue_date=issued.isoformat(),
        valid_until=valid_until.isoformat() if valid_until else None,
    )
    if kind == "competition_award":
        fields["competition"] = {
            "name": draw(field_text),
            "date": before.isoformat(),
            "award": draw(field_text),
            "rank": draw(st.none() | st.integers(1, 1000)),
        }
    else:
        fields["assessment"] = {
            "date": before.isoformat(),
            "session_id": draw(st.from_regex(r"[A-Z0-9-]{1,16}", fullmatch=True)),
            "location": draw(st.none() | field_text),
            "score": draw(st.none() | st.integers(0, 100) | field_text),
        }
    if kind == "technical_grade":
        fields["grade_title"] = draw(field_text)
    return parse_certificate(fields)


# Keys as OpenAttestation accepts them: non-empty, no '.', not __proto__.
keys = st.text(min_size=1, max_size=8).filter(lambda k: "." not in k and k != "__proto__")
scalars = st.one_of(
    st.text(max_size=16),
    st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER),
    st.booleans(),
    st.none(),
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, min_size=1, max_size=4) | st.dictionaries(keys, children, min_size=1, max_size=4)
    ),
    max_leaves=8,
)
document_data = st.dictionaries(keys, json_values, min_size=1, max_size=5)
"""Arbitrary document data that can be hashed reproducibly."""


def salt_stream(seed: int) -> Iterator[str]:
    """Deterministic version-4 UUID salts (for reproducible wrapping in tests)."""
    for i in itertools.count():
        h = f"{seed:016x}{i:016x}"
        yield f"{h[0:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:32]}"
