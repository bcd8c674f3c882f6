"""The certificate model: three kinds of credential, one discriminated union on `kind`.

- `TechnicalGradeCertificate` (``technical_grade``): a professional technical grade, level 1 (highest)
  to 5 with its grade title, earned in an assessment.
- `SkillLevelCertificate` (``skill_level``): a vocational skill level under the national five-level
  system (`SKILL_LEVEL_TITLES`), earned in an assessment.
- `CompetitionAwardCertificate` (``competition_award``): an award won at a skills competition, which
  carries the level it confers.

Every certificate names its holder, occupation and level, the accredited agency that issues it, the
scope (`scope_id`: the on-chain id of occupation code + level) and the chain and registry contract that
record it. Models are immutable and refuse what could not be hashed reproducibly: no floats anywhere
(a score is an integer or a string), integers within JavaScript's safe range, text without control
characters or surrounding whitespace, dates as ``YYYY-MM-DD``.
"""

from __future__ import annotations

import functools
import operator
import re
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from enum import StrEnum
from typing import Annotated, Any, Final, Literal, TypeAlias

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from credreg.documents._keccak import checksum_address, keccak256
from credreg.documents.canonical import MAX_SAFE_INTEGER
from credreg.documents.scopes import MAX_LEVEL, MIN_LEVEL, ScopeFormatError, check_occupation_code
from credreg.errors import DocumentError
from credreg.hashes import hash32, is_hash32_text

__all__ = [
    "CERTIFICATE_KINDS",
    "CHINA_STANDARD_TIME",
    "SKILL_LEVEL_TITLES",
    "AgencyRef",
    "AnyCertificate",
    "Assessment",
    "Certificate",
    "CertificateKind",
    "Competition",
    "CompetitionAwardCertificate",
    "Holder",
    "IdDocumentType",
    "SkillLevelCertificate",
    "TechnicalGradeCertificate",
    "expiry_timestamp",
    "parse_certificate",
    "resident_id_check_digit",
    "scope_id",
]

CertificateKind: TypeAlias = Literal["technical_grade", "skill_level", "competition_award"]
CERTIFICATE_KINDS: Final[tuple[CertificateKind, ...]] = (
    "technical_grade",
    "skill_level",
    "competition_award",
)

SKILL_LEVEL_TITLES: Final = {
    1: "一级/高级技师",
    2: "二级/技师",
    3: "三级/高级工",
    4: "四级/中级工",
    5: "五级/初级工",
}
"""The national vocational skill levels: 1 senior technician, 2 technician, 3 senior, 4 intermediate, 5 junior."""

CHINA_STANDARD_TIME: Final = timezone(timedelta(hours=8), "CST")

# Unicode categories Cc (controls) and Cs (surrogates).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# Python's and JavaScript's whitespace together, so that what we keep survives OpenAttestation's trim().
_SPACE = "\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"


@functools.lru_cache(maxsize=4096)
def scope_id(occupation_code: str, level: int) -> str:
    """The on-chain scope id: ``keccak256(abi.encode(string occupationCode, uint8 level))``, 0x-hex."""
    # The ABI's head (the string's offset, the level) and tail (length, UTF-8 bytes padded to 32), written
    # here: eth_abi takes a tenth of a second to import, for a verifier that needs only this.
    if type(occupation_code) is not str or type(level) is not int or not 0 <= level < 256:
        raise DocumentError(
            f"cannot compute a scope id for ({occupation_code!r}, {level!r}): "
            "expected a string and an integer from 0 to 255"
        )
    try:
        text = occupation_code.encode()
    except UnicodeEncodeError as error:
        raise DocumentError(
            f"cannot compute a scope id for ({occupation_code!r}, {level!r}): {error}"
        ) from None
    padded = text + b"\0" * (-len(text) % 32)
    encoded = (64).to_bytes(32, "big") + level.to_bytes(32, "big") + len(text).to_bytes(32, "big") + padded
    return "0x" + keccak256(encoded).hex()


def expiry_timestamp(valid_until: date | None, tz: tzinfo = CHINA_STANDARD_TIME) -> int:
    """The on-chain ``validUntil`` (seconds, exclusive) for a certificate valid through `valid_until`.

    A certificate is valid through the whole of its valid-until day in `tz`, so the window ends at the
    next midnight there. Open-ended certificates give 0, the chain's "no end".
    """
    if valid_until is None:
        return 0
    return int(datetime.combine(valid_until + timedelta(days=1), time(0), tz).timestamp())


def resident_id_check_digit(first17: str) -> str:
    """The GB 11643 (ISO 7064 MOD 11-2) check character of a resident identity card number."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(map(operator.mul, map(int, first17), weights))
    return "10X98765432"[total % 11]


# --- field types -----------------------------------------------------------------------------------


def _clean_text(value: str) -> str:
    value = value.strip(_SPACE)
    if not value:
        raise ValueError("must not be empty")
    bad = _CONTROL.search(value)
    if bad is not None:
        raise ValueError(f"must not contain the control character U+{ord(bad.group()):04X}")
    return value


def _iso_date(value: Any) -> Any:
    if isinstance(value, datetime):
        raise ValueError("expected a date (YYYY-MM-DD), not a date and time")
    if isinstance(value, str):
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            raise ValueError(f"expected a date as YYYY-MM-DD, got {value!r}")
        return date.fromisoformat(value.strip())
    if not isinstance(value, date):
        raise ValueError(f"expected a date as YYYY-MM-DD, got {type(value).__name__}")
    return value


@functools.lru_cache(maxsize=1024)
def _address(value: str) -> str:
    if not re.fullmatch(r"0x[0-9a-fA-F]{40}", value):
        raise ValueError(f"expected a 0x-prefixed 20-byte hex address, got {value!r}")
    checksummed = checksum_address(value)
    if value[2:] not in (value[2:].lower(), value[2:].upper()) and value != checksummed:
        raise ValueError(f"{value} has mixed case but a wrong EIP-55 checksum (a typo?)")
    return checksummed


def _occupation_code(value: str) -> str:
    try:
        return check_occupation_code(value, field="occupation_code")
    except ScopeFormatError as error:  # pydantic reports ValueErrors under the field's name
        raise ValueError(str(error)) from None


def _bytes32(value: str) -> str:
    # Only the boundary form: a certificate's hashes are written with "0x", unlike OpenAttestation's own.
    if not is_hash32_text(value):
        raise ValueError(f"expected 0x and 64 hex digits, got {value!r}")
    return hash32(value)


Text = Annotated[str, AfterValidator(_clean_text), Field(max_length=200)]
ShortText = Annotated[str, AfterValidator(_clean_text), Field(max_length=64)]
IsoDate = Annotated[date, BeforeValidator(_iso_date)]
SafeInt = Annotated[int, Strict(), Field(ge=-MAX_SAFE_INTEGER, le=MAX_SAFE_INTEGER)]
Level = Annotated[int, Strict(), Field(ge=MIN_LEVEL, le=MAX_LEVEL)]
Address = Annotated[str, AfterValidator(_address)]
Bytes32Hex = Annotated[str, AfterValidator(_bytes32)]


class IdDocumentType(StrEnum):
    """Kinds of identity document a holder may be registered with."""

    RESIDENT_ID = "resident_id"
    PASSPORT = "passport"
    HK_MACAO_PERMIT = "hk_macao_permit"
    TAIWAN_PERMIT = "taiwan_permit"
    FOREIGN_PERMANENT_RESIDENT_ID = "foreign_permanent_resident_id"
    OTHER = "other"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Holder(_Model):
    """The person a certificate is issued to. A resident ID number's check digit is verified."""

    name: Text
    id_type: IdDocumentType
    id_number: ShortText

    @model_validator(mode="after")
    def _check_resident_id(self) -> Holder:
        if self.id_type is IdDocumentType.RESIDENT_ID:
            number = self.id_number.upper()
            if not re.fullmatch(r"\d{17}[\dX]", number):
                raise ValueError("a resident ID number has 17 digits and a check digit or X")
            if resident_id_check_digit(number[:17]) != number[17]:
                raise ValueError("the resident ID number's check digit is wrong (a typo?)")
            if number != self.id_number:
                object.__setattr__(self, "id_number", number)
        return self


class AgencyRef(_Model):
    """The issuing evaluation agency: its on-chain id and name."""

    id: Annotated[int, Strict(), Field(ge=1, le=2**32 - 1)]
    name: Text


class Assessment(_Model):
    """The assessment a grade or level was earned in."""

    date: IsoDate
    session_id: ShortText
    location: Text | None = None
    score: SafeInt | ShortText | None = None


class Competition(_Model):
    """The competition an award was won at."""

    name: Text
    date: IsoDate
    award: ShortText
    rank: Annotated[int, Strict(), Field(ge=1, le=MAX_SAFE_INTEGER)] | None = None


class _CertificateBase(_Model):
    certificate_number: Annotated[str, AfterValidator(_clean_text), Field(max_length=64, pattern=r"^\S+$")]
    holder: Holder
    occupation_code: Annotated[str, AfterValidator(_occupation_code)]
    occupation_title: Text
    level: Level
    issue_date: IsoDate
    valid_until: IsoDate | None = None
    agency: AgencyRef
    scope_id: Bytes32Hex
    chain_id: Annotated[int, Strict(), Field(ge=1, le=MAX_SAFE_INTEGER)]
    registry: Address

    @model_validator(mode="before")
    @classmethod
    def _fill_scope_id(cls, values: Any) -> Any:
        if isinstance(values, dict) and values.get("scope_id") is None:
            code, level = values.get("occupation_code"), values.get("level")
            if isinstance(code, str) and type(level) is int and 0 <= level < 256:
                return {**values, "scope_id": scope_id(code, level)}
        return values

    @model_validator(mode="after")
    def _check_consistency(self) -> _CertificateBase:
        expected = scope_id(self.occupation_code, self.level)
        if self.scope_id != expected:
            raise ValueError(
                f"scope_id {self.scope_id} is not the scope of occupation {self.occupation_code!r} "
                f"level {self.level} ({expected})"
            )
        if self.valid_until is not None and self.valid_until < self.issue_date:
            raise ValueError(f"valid_until {self.valid_until} is before issue_date {self.issue_date}")
        return self


class TechnicalGradeCertificate(_CertificateBase):
    """A professional technical grade certificate."""

    kind: Literal["technical_grade"] = "technical_grade"
    grade_title: Text
    assessment: Assessment

    @model_validator(mode="after")
    def _check_dates(self) -> TechnicalGradeCertificate:
        _not_after(self.assessment.date, self.issue_date, "assessment.date")
        return self


class SkillLevelCertificate(_CertificateBase):
    """A vocational skill level certificate."""

    kind: Literal["skill_level"] = "skill_level"
    assessment: Assessment

    @model_validator(mode="after")
    def _check_dates(self) -> SkillLevelCertificate:
        _not_after(self.assessment.date, self.issue_date, "assessment.date")
        return self


class CompetitionAwardCertificate(_CertificateBase):
    """A competition award."""

    kind: Literal["competition_award"] = "competition_award"
    competition: Competition

    @model_validator(mode="after")
    def _check_dates(self) -> CompetitionAwardCertificate:
        _not_after(self.competition.date, self.issue_date, "competition.date")
        return self


AnyCertificate: TypeAlias = TechnicalGradeCertificate | SkillLevelCertificate | CompetitionAwardCertificate
"""Any certificate, for type annotations."""

Certificate = Annotated[AnyCertificate, Field(discriminator="kind")]
"""Any certificate, for validation: pydantic picks the class from `kind`."""

_CERTIFICATE: TypeAdapter[Certificate] = TypeAdapter(Certificate)


def parse_certificate(value: Any) -> AnyCertificate:
    """Validate a certificate from plain data (a dict as JSON gives it); `DocumentError` lists what is wrong."""
    try:
        return _CERTIFICATE.validate_python(value)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'certificate'}: {e['msg']}" for e in error.errors()
        )
        raise DocumentError(f"invalid certificate: {problems}") from None


def _not_after(earlier: date, later: date, field: str) -> None:
    if earlier > later:
        raise ValueError(f"{field} {earlier} is after issue_date {later}")
