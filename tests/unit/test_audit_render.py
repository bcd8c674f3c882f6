"""The audit report's sentences come from the label table, in Chinese and English; the English is what
the report has always said (each expected sentence below was the report's own before its words moved)."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import pytest

from credreg.audit import render
from credreg.chain.states import Verdict
from credreg.labels import AUDIT_SENTENCES

A1 = "0x" + "ab" * 20
A2 = "0x" + "cd" * 20
ZERO = "0x" + "00" * 20
SCOPE = "0x" + "11" * 32
OTHER = "0x" + "22" * 32
SCOPES = {SCOPE: SimpleNamespace(occupation_code="4-01-02-03", level=3)}
CJK = re.compile(r"[\u4e00-\u9fff]")

GOVERNANCE: list[tuple[str, dict[str, Any], str]] = [
    (
        "OwnershipTransferStarted",
        {"previousOwner": A1, "newOwner": A2},
        "governor 0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB proposed 0xCdCDCdCdcdcdcdCdcDcDCdcDcDCdCdcdCdcDCDcD as the next governor",
    ),
    (
        "OwnershipTransferred",
        {"previousOwner": ZERO, "newOwner": A2},
        "registry deployed; governor 0xCdCDCdCdcdcdcdCdcDcDCdcDcDCdCdcdCdcDCDcD",
    ),
    (
        "OwnershipTransferred",
        {"previousOwner": A1, "newOwner": A2},
        "governance passed from 0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB to 0xCdCDCdCdcdcdcdCdcDcDCdcDcDCdCdcdCdcDCDcD",
    ),
    (
        "ScopeDefined",
        {"scopeId": SCOPE, "occupationCode": "4-01-02-03", "level": 3, "title": "Welder"},
        "scope 4-01-02-03 level 3 defined: Welder",
    ),
    (
        "AgencyRegistered",
        {"agencyId": 7, "admin": A1, "name": "Test Agency", "registrationCode": "REG-1"},
        "agency 7 registered: Test Agency (REG-1), admin 0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB",
    ),
    (
        "AgencyAdminTransferred",
        {"agencyId": 7, "previousAdmin": A1, "newAdmin": A2},
        "agency 7 admin changed from 0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB to 0xCdCDCdCdcdcdcdCdcDcDCdcDcDCdCdcdCdcDCDcD",
    ),
    ("AgencySuspended", {"agencyId": 7, "reason": 4}, "agency 7 suspended (reason 4)"),
    ("AgencyReinstated", {"agencyId": 7}, "agency 7 reinstated"),
    (
        "AgencyRevoked",
        {"agencyId": 7, "reason": 2, "cutoff": 1700000000},
        "agency 7 revoked (reason 2); its credentials issued from 2023-11-14T22:13:20Z are invalid",
    ),
    (
        "AgencyAccredited",
        {"agencyId": 7, "scopeId": SCOPE, "validFrom": 1700000000, "validUntil": 0},
        "agency 7 accredited for 4-01-02-03 level 3, [2023-11-14T22:13:20Z, open)",
    ),
    (
        "AccreditationWithdrawn",
        {"agencyId": 7, "scopeId": OTHER, "validFrom": 1700000000, "validUntil": 1710000000},
        "agency 7 accreditation for scope 0x2222222222222222222222222222222222222222222222222222222222222222 withdrawn, window now [2023-11-14T22:13:20Z, 2024-03-09T16:00:00Z)",
    ),
    (
        "SignerAdded",
        {"agencyId": 7, "signer": A1, "validFrom": 0, "validUntil": 1710000000},
        "agency 7 signer 0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB added, [never, 2024-03-09T16:00:00Z)",
    ),
    (
        "SignerRetired",
        {"agencyId": 7, "signer": A1, "validFrom": 1700000000, "validUntil": 1710000000},
        "agency 7 signer 0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB retired, window now [2023-11-14T22:13:20Z, 2024-03-09T16:00:00Z)",
    ),
    (
        "SignerCompromised",
        {"agencyId": 7, "signer": A1, "since": 1705000000},
        "agency 7 signer 0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB reported compromised since 2024-01-11T19:06:40Z",
    ),
    ("ScopeRetired", {"scopeId": SCOPE, "retiredAt": 1705000000}, "ScopeRetired"),
]

CREDENTIAL: list[tuple[str, dict[str, Any], str]] = [
    (
        "CredentialIssued",
        {"root": SCOPE, "agencyId": 7, "signer": A1, "scopeId": SCOPE, "issuedAt": 1, "validUntil": 0},
        "root 0x1111111111111111111111111111111111111111111111111111111111111111 issued by agency 7 (signer 0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB)",
    ),
    (
        "CredentialIssued",
        {
            "root": SCOPE,
            "agencyId": 7,
            "signer": A1,
            "scopeId": SCOPE,
            "issuedAt": 1,
            "validUntil": 1710000000,
        },
        "root 0x1111111111111111111111111111111111111111111111111111111111111111 issued by agency 7 (signer 0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB), valid until 2024-03-09T16:00:00Z",
    ),
    (
        "CredentialStatusChanged",
        {
            "root": SCOPE,
            "agencyId": 7,
            "actor": A2,
            "target": OTHER,
            "action": 1,
            "reason": 3,
            "nonce": 1,
            "since": 5,
            "byGovernor": False,
        },
        "0x2222222222222222222222222222222222222222222222222222222222222222 revoked by agency 7 (signer 0xCdCDCdCdcdcdcdCdcDcDCdcDcDCdCdcdCdcDCDcD), reason 3",
    ),
    (
        "CredentialStatusChanged",
        {
            "root": SCOPE,
            "agencyId": 7,
            "actor": A2,
            "target": OTHER,
            "action": 2,
            "reason": 0,
            "nonce": 1,
            "since": 5,
            "byGovernor": True,
        },
        "0x2222222222222222222222222222222222222222222222222222222222222222 suspended by the governor, reason 0",
    ),
    (
        "CredentialStatusChanged",
        {
            "root": SCOPE,
            "agencyId": 7,
            "actor": A2,
            "target": OTHER,
            "action": 3,
            "reason": 0,
            "nonce": 2,
            "since": 5,
            "byGovernor": False,
        },
        "0x2222222222222222222222222222222222222222222222222222222222222222 reinstated by agency 7 (signer 0xCdCDCdCdcdcdcdCdcDcDCdcDcDCdCdcdCdcDCDcD), reason 0",
    ),
    (
        "CredentialStatusChanged",
        {
            "root": SCOPE,
            "agencyId": 7,
            "actor": A2,
            "target": OTHER,
            "action": 9,
            "reason": 0,
            "nonce": 2,
            "since": 5,
            "byGovernor": False,
        },
        "0x2222222222222222222222222222222222222222222222222222222222222222 action 9 by agency 7 (signer 0xCdCDCdCdcdcdcdCdcDcDCdcDcDCdCdcdCdcDCDcD), reason 0",
    ),
]

# Each verdict of a credential judged at 1706000000, with target OTHER, reason 5, since 1705000000.
ANSWERS: dict[str, str] = {
    "valid": "valid at 2024-01-23T08:53:20Z",
    "not-issued": "not issued as of 2024-01-23T08:53:20Z",
    "invalid-proof": "the proof does not lead from this hash to the root",
    "root-revoked": "root revoked (0x2222222222222222222222222222222222222222222222222222222222222222) since 2024-01-11T19:06:40Z, reason 5",
    "node-revoked": "node revoked (0x2222222222222222222222222222222222222222222222222222222222222222) since 2024-01-11T19:06:40Z, reason 5",
    "leaf-revoked": "leaf revoked (0x2222222222222222222222222222222222222222222222222222222222222222) since 2024-01-11T19:06:40Z, reason 5",
    "agency-revoked": "the issuing agency was revoked with cut-off 2024-01-11T19:06:40Z, at or before issuance",
    "signer-compromised": "the signer key was reported compromised since 2024-01-11T19:06:40Z, at or before issuance",
    "expired": "expired at 2024-01-11T19:06:40Z",
    "root-suspended": "root suspended (0x2222222222222222222222222222222222222222222222222222222222222222) since 2024-01-11T19:06:40Z, reason 5",
    "node-suspended": "node suspended (0x2222222222222222222222222222222222222222222222222222222222222222) since 2024-01-11T19:06:40Z, reason 5",
    "leaf-suspended": "leaf suspended (0x2222222222222222222222222222222222222222222222222222222222222222) since 2024-01-11T19:06:40Z, reason 5",
}

# (day number, agency, [(what, n)], sentence): a day's credential activity.
ACTIVITY = [
    (
        "2023-12-09",
        7,
        [("issued", 3), ("reinstate", 1), ("revoke", 2), ("suspend", 1)],
        "2023-12-09: agency 7 issued 3 root(s), reinstated 1, revoked 2, suspended 1",
    ),
    ("2023-12-10", 8, [("issued", 1), ("odd", 4)], "2023-12-10: agency 8 issued 1 root(s), odd 4"),
]


def fields(template: str) -> set[str]:
    return set(re.findall(r"{(\w+)}", template))


@pytest.mark.parametrize("key", sorted(AUDIT_SENTENCES))
def test_every_sentence_has_both_languages_with_the_same_fields(key: str) -> None:
    words = AUDIT_SENTENCES[key]
    assert fields(words.zh) == fields(words.en), key
    assert words.en.strip()
    assert not CJK.search(words.en)
    # Chinese words, unless the entry is only punctuation or fields.
    bare = re.sub(r"{\w+}|\s", "", words.zh)
    assert CJK.search(words.zh) or not re.search(r"\w", bare), key


@pytest.mark.parametrize(("name", "args", "english"), GOVERNANCE)
def test_a_governance_event_reads_as_before_and_in_chinese(
    name: str, args: dict[str, Any], english: str
) -> None:
    assert render.describe(SCOPES, name, args) == english
    chinese = render.describe(SCOPES, name, args, "zh")
    if english != name:  # an event without a sentence is named as it is
        assert CJK.search(chinese)
        assert chinese != english


@pytest.mark.parametrize(("name", "args", "english"), CREDENTIAL)
def test_a_credential_event_reads_as_before_and_in_chinese(
    name: str, args: dict[str, Any], english: str
) -> None:
    assert render.credential_text(name, args) == english
    assert CJK.search(render.credential_text(name, args, "zh"))


@pytest.mark.parametrize("verdict", list(Verdict), ids=lambda v: v.label)
def test_every_verdict_is_explained_as_before_and_in_chinese(verdict: Verdict) -> None:
    said = {
        lang: render.answer_text(verdict, 1706000000, target=OTHER, reason=5, since=1705000000, lang=lang)
        for lang in ("en", "zh")
    }
    assert said["en"] == ANSWERS[verdict.label]
    assert CJK.search(said["zh"])


@pytest.mark.parametrize(("day", "agency", "counts", "english"), ACTIVITY)
def test_a_days_activity_reads_as_before(
    day: str, agency: int, counts: list[tuple[str, int]], english: str
) -> None:
    assert render.activity_text(day, agency, counts) == english
    assert CJK.search(render.activity_text(day, agency, counts, "zh"))


def test_a_retroactive_invalidation_reads_as_before() -> None:
    assert render.retroactive_text(1706000000, Verdict.AGENCY_REVOKED, 1700000000, 1701000000) == (
        "the ledger showed it valid at 2024-01-23T08:53:20Z, but later its agency was revoked with cut-off "
        "2023-11-14T22:13:20Z, at or before its issuance at 2023-11-26T12:00:00Z: it counts as invalid from "
        "issuance on"
    )
    assert "its signer key was reported compromised since" in render.retroactive_text(
        1706000000, Verdict.SIGNER_COMPROMISED, 1700000000, 1701000000
    )
