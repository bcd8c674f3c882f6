"""Occupation scopes: the national occupational classification code and the level, checked in one place.

A scope is what an agency is accredited for and what a certificate is issued under: an occupation code of
the national classification (《中华人民共和国职业分类大典》, GB/T 6565-2015, 2022 edition) and a level.

- The code is `major-middle-minor-detail`, `D-DD-DD-DD`: one digit for the major group (1–8), then two
  digits each for the middle group, the minor group and the occupation, e.g. `4-04-05-06`
  (区块链工程技术人员). `2-02-1009` and `2-02-10-099` are refused.
- The level is 1 to 5 for every kind of certificate, 1 the highest, so that one scope serves every kind:
  - vocational skill level certificates (``skill_level``): 1 一级/高级技师, 2 二级/技师, 3 三级/高级工,
    4 四级/中级工, 5 五级/初级工;
  - professional technical grades (``technical_grade``): the national grades 初级/中级/高级, with 高级 split
    into 正高级 (1) and 副高级 (2), 中级 (3), and 初级 split into 助理级 (4) and 员级 (5);
  - competition awards (``competition_award``): the skill level the award confers, named as for skill
    level certificates (a competition award confers a vocational skill level).

`parse_scope` reads a scope as people write it, `4-04-05-06/3`, or as the ledger names it, a 0x hash. The
CLI, issuance (through the certificate model) and the API all check scopes with these functions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from credreg.errors import DocumentError

MIN_LEVEL: Final = 1
MAX_LEVEL: Final = 5
OCCUPATION_CODE_PATTERN: Final = r"^[1-8]-\d{2}-\d{2}-\d{2}$"
_CODE = re.compile(OCCUPATION_CODE_PATTERN)
_HASH = re.compile(r"^0x[0-9a-fA-F]{64}$")
_WRITTEN = re.compile(r"^(?P<code>[^/\s]+)\s*/\s*(?P<level>\S+)$")

CODE_EXAMPLE: Final = "4-04-05-06"
SCOPE_EXAMPLE: Final = "4-04-05-06/3"


class ScopeFormatError(DocumentError):
    """An occupation code, a level or a written scope is not in the national form; `field` names which."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def check_occupation_code(code: str, *, field: str = "occupation code") -> str:
    """`code` if it is `D-DD-DD-DD` with a major group 1–8; a bilingual `ScopeFormatError` otherwise."""
    if not isinstance(code, str) or not _CODE.match(code):
        raise ScopeFormatError(
            field,
            f"{field}：{code!r} 不是职业分类大典的职业编码，格式为 大类-中类-小类-细类（D-DD-DD-DD），"
            f"例如 {CODE_EXAMPLE} / {field}: {code!r} is not a national occupational classification code; "
            f"write major-middle-minor-detail as D-DD-DD-DD, e.g. {CODE_EXAMPLE}",
        )
    return code


def check_level(level: int, *, field: str = "level") -> int:
    """`level` if it is 1 (highest) to 5; a bilingual `ScopeFormatError` otherwise."""
    if isinstance(level, bool) or not isinstance(level, int) or not MIN_LEVEL <= level <= MAX_LEVEL:
        raise ScopeFormatError(
            field,
            f"{field}：等级 {level!r} 超出范围，请写 1（一级/高级技师，最高）到 5（五级/初级工）之间的数字 / "
            f"{field}: level {level!r} is out of range; write a number from 1 (highest) to 5 (lowest)",
        )
    return level


@dataclass(frozen=True)
class WrittenScope:
    """A scope as a person writes it: occupation code and level (its id is `scope_id(code, level)`)."""

    occupation_code: str
    level: int

    def __str__(self) -> str:
        return f"{self.occupation_code}/{self.level}"


def check_scope(occupation_code: str, level: int) -> WrittenScope:
    """Both parts checked (see the module docstring)."""
    return WrittenScope(check_occupation_code(occupation_code), check_level(level))


def parse_scope(text: str, *, field: str = "scope") -> str | WrittenScope:
    """A 0x scope id (returned lower-case), or `CODE/LEVEL` checked and returned as a `WrittenScope`."""
    value = text.strip()
    if _HASH.match(value):
        return value.lower()
    written = _WRITTEN.match(value)
    if written is None or not written.group("level").isdigit():
        raise ScopeFormatError(
            field,
            f"{field}：无法识别 {text!r}。请写 职业编码/等级，例如 {SCOPE_EXAMPLE}，或 0x 开头的范围编号 / "
            f"{field}: {text!r} is not a scope; write occupation-code/level, e.g. {SCOPE_EXAMPLE}, "
            f"or a 0x scope id",
        )
    return check_scope(written.group("code"), int(written.group("level")))


__all__ = [
    "CODE_EXAMPLE",
    "MAX_LEVEL",
    "MIN_LEVEL",
    "OCCUPATION_CODE_PATTERN",
    "SCOPE_EXAMPLE",
    "ScopeFormatError",
    "WrittenScope",
    "check_level",
    "check_occupation_code",
    "check_scope",
    "parse_scope",
]
