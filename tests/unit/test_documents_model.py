"""The certificate model refuses what cannot be hashed reproducibly or is plainly wrong."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from documents_factories import REGISTRY, certificate_fields, make_certificate, resident_id
from hypothesis import example, given
from hypothesis import strategies as st
from pydantic import ValidationError

from credreg.documents import (
    CompetitionAwardCertificate,
    SkillLevelCertificate,
    TechnicalGradeCertificate,
    expiry_timestamp,
    parse_certificate,
    resident_id_check_digit,
    scope_id,
)
from credreg.documents._keccak import keccak256
from credreg.errors import DocumentError


def abi_encode_string_uint8(text: str, level: int) -> bytes:
    """abi.encode(string, uint8) written out by hand: head (offset, level), then length and padded bytes."""
    raw = text.encode()
    padded = raw + b"\x00" * (-len(raw) % 32)
    return (64).to_bytes(32, "big") + level.to_bytes(32, "big") + len(raw).to_bytes(32, "big") + padded


@given(st.text(max_size=80), st.integers(0, 255))
@example("6-31-01-03", 3)
@example("", 0)
@example("x" * 32, 5)
def test_scope_id_is_keccak_of_abi_encoded_code_and_level(code: str, level: int) -> None:
    assert scope_id(code, level) == "0x" + keccak256(abi_encode_string_uint8(code, level)).hex()


def test_scope_id_refuses_a_level_outside_uint8() -> None:
    with pytest.raises(DocumentError, match="scope id"):
        scope_id("6-31-01-03", 256)


@pytest.mark.parametrize("kind", ["technical_grade", "skill_level", "competition_award"])
def test_the_kind_selects_the_certificate_class(kind: str) -> None:
    certificate = make_certificate(kind)
    expected = {
        "technical_grade": TechnicalGradeCertificate,
        "skill_level": SkillLevelCertificate,
        "competition_award": CompetitionAwardCertificate,
    }[kind]
    assert type(certificate) is expected
    assert certificate.scope_id == scope_id("6-31-01-03", 3)
    assert certificate.registry == REGISTRY


def test_registry_addresses_are_normalised_to_their_checksum() -> None:
    assert make_certificate(registry=REGISTRY.lower()).registry == REGISTRY


def test_certificates_are_immutable() -> None:
    certificate = make_certificate()
    with pytest.raises(ValidationError):
        certificate.level = 4  # type: ignore[misc]


@pytest.mark.parametrize(
    ("overrides", "where"),
    [
        ({"level": 6}, "level"),
        ({"level": 0}, "level"),
        ({"level": 3.0}, "level"),
        ({"level": "3"}, "level"),
        ({"level": True}, "level"),
        ({"chain_id": 2**53}, "chain_id"),
        ({"assessment": {"date": "2025-06-01", "session_id": "A", "score": 87.5}}, "assessment.score"),
        ({"assessment": {"date": "2025-06-01", "session_id": "A", "score": True}}, "assessment.score"),
        ({"assessment": {"date": "2025-07-01", "session_id": "A"}}, "assessment.date"),
        ({"issue_date": "30/06/2025"}, "issue_date"),
        ({"issue_date": "2025-02-30"}, "issue_date"),
        ({"issue_date": datetime(2025, 6, 30, tzinfo=UTC)}, "issue_date"),
        ({"valid_until": "2025-06-29"}, "valid_until"),
        ({"registry": "0x5fbdb2315678afecb367f032d93f642f64180aA3"}, "registry"),
        ({"registry": "0x1234"}, "registry"),
        ({"scope_id": "0x" + "00" * 32}, "scope_id"),
        ({"occupation_code": "6 31"}, "occupation_code"),
        ({"occupation_title": "  "}, "occupation_title"),
        ({"occupation_title": "电\x00工"}, "occupation_title"),
        ({"certificate_number": "CR 1"}, "certificate_number"),
        (
            {"holder": {"name": "张伟", "id_type": "resident_id", "id_number": "110105197001010010"}},
            "check digit",
        ),
        (
            {"holder": {"name": "张伟", "id_type": "resident_id", "id_number": "11010519700101001"}},
            "17 digits",
        ),
        ({"holder": {"name": "张伟", "id_type": "driving_licence", "id_number": "1"}}, "holder.id_type"),
        ({"agency": {"id": 0, "name": "x"}}, "agency.id"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_bad_fields_are_refused_by_name(overrides: dict[str, Any], where: str) -> None:
    with pytest.raises(DocumentError, match="invalid certificate") as caught:
        parse_certificate(certificate_fields("skill_level", **overrides))
    assert where in str(caught.value)


def test_the_wrong_details_for_the_kind_are_refused() -> None:
    fields = certificate_fields("competition_award")
    fields["assessment"] = {"date": "2025-06-01", "session_id": "A"}
    with pytest.raises(DocumentError, match="assessment"):
        parse_certificate(fields)
    with pytest.raises(DocumentError, match="grade_title"):
        parse_certificate(certificate_fields("technical_grade", grade_title=None))


def test_text_is_trimmed_of_whitespace_javascript_would_trim() -> None:
    certificate = make_certificate(
        holder={"name": "\ufeff 李娜\u3000", "id_type": "passport", "id_number": "E12345678"}
    )
    assert certificate.holder.name == "李娜"


def test_resident_id_check_digit_and_lowercase_x() -> None:
    number = resident_id(1)
    assert resident_id_check_digit(number[:17]) == number[17]
    # 11010519491231002X is the standard's own example of an X check character.
    assert resident_id_check_digit("11010519491231002") == "X"
    holder = {"name": "x", "id_type": "resident_id", "id_number": "11010519491231002x"}
    assert make_certificate(holder=holder).holder.id_number == "11010519491231002X"


def test_score_may_be_an_integer_or_text() -> None:
    for score in (0, 100, "合格", "87.5", None):
        assessment = {"date": "2025-06-01", "session_id": "A", "score": score}
        assert make_certificate(assessment=assessment).assessment.score == score  # type: ignore[union-attr]


def test_expiry_is_the_midnight_after_the_valid_until_day() -> None:
    assert expiry_timestamp(None) == 0
    # 2028-06-30 is valid all day in China Standard Time: until 2028-07-01 00:00 +08:00.
    assert expiry_timestamp(date(2028, 6, 30)) == int(datetime(2028, 6, 30, 16, tzinfo=UTC).timestamp())
    assert expiry_timestamp(date(2028, 6, 30), UTC) == int(datetime(2028, 7, 1, tzinfo=UTC).timestamp())
