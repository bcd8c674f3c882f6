"""Scopes are checked in one place: the national occupation code form and the level range."""

from __future__ import annotations

import pytest
from documents_factories import make_certificate

from credreg.documents.model import scope_id
from credreg.documents.scopes import (
    ScopeFormatError,
    WrittenScope,
    check_level,
    check_occupation_code,
    parse_scope,
)
from credreg.errors import DocumentError
from credreg.labels import LEVEL_NAMES


@pytest.mark.parametrize("code", ["4-04-05-06", "2-02-10-09", "6-31-01-03", "1-01-01-01", "8-00-00-00"])
def test_national_codes_are_accepted(code: str) -> None:
    assert check_occupation_code(code) == code


@pytest.mark.parametrize(
    "code",
    ["2-02-1009", "2-02-10-099", "0-01-01-01", "9-01-01-01", "4-4-05-06", "4-04-05", "4 04 05 06",
     "4-04-05-06 ", "A-01-01-01", "", "4-04-05-06/3", "４-04-05-06"],
)  # fmt: skip
def test_other_codes_are_refused_with_the_right_form(code: str) -> None:
    with pytest.raises(ScopeFormatError) as caught:
        check_occupation_code(code)
    message = str(caught.value)
    assert "D-DD-DD-DD" in message
    assert "4-04-05-06" in message
    assert message.index("职业编码") < message.index("occupational classification")


@pytest.mark.parametrize("level", [1, 2, 3, 4, 5])
def test_levels_1_to_5_are_accepted_and_named_for_every_kind(level: int) -> None:
    assert check_level(level) == level
    for kind in ("skill_level", "technical_grade", "competition_award"):
        assert LEVEL_NAMES[kind][level].zh


@pytest.mark.parametrize("level", [0, 6, 12, 255, -1, True])
def test_levels_outside_1_to_5_are_refused(level: int) -> None:
    with pytest.raises(ScopeFormatError) as caught:
        check_level(level)
    assert "from 1 (highest) to 5" in str(caught.value)


def test_skill_levels_have_their_chinese_names() -> None:
    names = {level: words.zh for level, words in LEVEL_NAMES["skill_level"].items()}
    assert names == {1: "一级/高级技师", 2: "二级/技师", 3: "三级/高级工", 4: "四级/中级工", 5: "五级/初级工"}
    grades = {words.zh.split("（")[0] for words in LEVEL_NAMES["technical_grade"].values()}
    assert grades == {"初级", "中级", "高级"}


def test_a_scope_is_written_code_slash_level_or_given_as_its_id() -> None:
    assert parse_scope("4-04-05-06/3") == WrittenScope("4-04-05-06", 3)
    assert parse_scope(" 4-04-05-06 / 3 ") == WrittenScope("4-04-05-06", 3)
    hashed = scope_id("4-04-05-06", 3)
    assert parse_scope(hashed.upper().replace("0X", "0x")) == hashed


@pytest.mark.parametrize(
    ("text", "field_in_message"),
    [("2-02-1009/2", "D-DD-DD-DD"), ("2-02-10-099/2", "D-DD-DD-DD"), ("4-04-05-06/12", "level 12"),
     ("4-04-05-06", "4-04-05-06/3"), ("4-04-05-06/x", "4-04-05-06/3"), ("0x1234", "4-04-05-06/3")],
)  # fmt: skip
def test_a_wrong_scope_is_refused_naming_what_is_wrong(text: str, field_in_message: str) -> None:
    with pytest.raises(ScopeFormatError) as caught:
        parse_scope(text)
    assert field_in_message in str(caught.value)


def test_certificates_are_checked_with_the_same_rule() -> None:
    with pytest.raises(DocumentError, match="D-DD-DD-DD"):
        make_certificate(occupation_code="2-02-1009")
