"""SD-JWT VCs: issue, hide fields as a holder, verify; the hidden identity number is really gone."""

from __future__ import annotations

import base64
import json

import pytest
from vc_factories import BASE_URL, KINDS, SIGNED_AT, batch_documents

from credreg.documents import document_data, hideable_fields
from credreg.errors import DisclosureError, MalformedDocument
from credreg.vc.keys import generate_key
from credreg.vc.sdjwt import issue_sd_jwt, present, verify_sd_jwt

KEY = generate_key()


def issue(kind: str = "skill_level") -> tuple[str, dict[str, object]]:
    document = batch_documents(kind, size=2)[0]
    sd_jwt = issue_sd_jwt(document, KEY, status_base_url=BASE_URL, position=9, issued_at=SIGNED_AT)
    return sd_jwt, document_data(document)


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_round_trips_with_all_fields_disclosed(kind: str) -> None:
    sd_jwt, data = issue(kind)
    check = verify_sd_jwt(sd_jwt)
    assert check.hidden == ()
    assert check.kind == kind
    assert check.public_key == KEY.public_key
    claims = check.claims
    assert {k: claims[k] for k in data if k != "$template"} == {
        k: v for k, v in data.items() if k != "$template"
    }
    assert (
        claims["vct"]
        == {
            "technical_grade": "urn:credreg:vct:TechnicalGradeCredential",
            "skill_level": "urn:credreg:vct:SkillLevelCredential",
            "competition_award": "urn:credreg:vct:CompetitionAwardCredential",
        }[kind]
    )
    assert claims["iss"] == KEY.did
    assert [s["statusListIndex"] for s in claims["credentialStatus"]] == ["9", "9"]


def test_exactly_the_hideable_fields_are_selectively_disclosable() -> None:
    sd_jwt, _ = issue("technical_grade")
    jwt, *disclosures = sd_jwt.split("~")[:-1]
    payload = json.loads(unb64(jwt.split(".")[1]))
    assert "idNumber" not in json.dumps(payload)
    names = sorted(json.loads(unb64(d))[1] for d in disclosures)
    assert names == sorted(f.rsplit(".", 1)[-1] for f in hideable_fields("technical_grade"))
    assert payload["credreg"]["scopeId"].startswith("0x")  # what verification needs stays plain


def test_a_holder_hidden_identity_number_is_absent_and_the_presentation_verifies() -> None:
    sd_jwt, data = issue()
    number = data["recipient"]["idNumber"]  # type: ignore[index]

    presentation = present(sd_jwt, ["recipient.idNumber"])

    decoded = "".join(
        unb64(part).decode("utf-8", "replace")
        for chunk in presentation.split("~")
        for part in chunk.split(".")
    )
    assert number not in decoded
    assert number not in presentation
    check = verify_sd_jwt(presentation)
    assert check.hidden == ("recipient.idNumber",)
    assert check.claims["recipient"] == {"name": "张伟", "idType": "resident_id"}


def test_hiding_an_object_hides_every_field_in_it() -> None:
    sd_jwt, _ = issue()
    check = verify_sd_jwt(present(sd_jwt, ["credreg.assessment", "id"]))
    assert set(check.hidden) == {
        "id",
        "credreg.assessment.date",
        "credreg.assessment.sessionId",
        "credreg.assessment.location",
        "credreg.assessment.score",
    }


def test_fields_verification_needs_cannot_be_hidden() -> None:
    sd_jwt, _ = issue()
    with pytest.raises(DisclosureError, match="may hide"):
        present(sd_jwt, ["credreg.scopeId"])


def test_a_changed_claim_or_a_forged_disclosure_is_refused() -> None:
    sd_jwt, _ = issue()
    jwt, rest = sd_jwt.split("~", 1)
    header, payload, signature = jwt.split(".")
    claims = json.loads(unb64(payload))
    claims["credreg"]["level"] = 1
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    with pytest.raises(MalformedDocument, match="signature"):
        verify_sd_jwt(f"{header}.{forged_payload}.{signature}~{rest}")
    forged = base64.urlsafe_b64encode(json.dumps(["salt", "idNumber", "000"]).encode()).decode().rstrip("=")
    with pytest.raises(MalformedDocument, match="not referenced"):
        verify_sd_jwt(present(sd_jwt, ["recipient.idNumber"]) + forged + "~")
    with pytest.raises(MalformedDocument, match="twice"):
        verify_sd_jwt(sd_jwt + sd_jwt.split("~")[1] + "~")
