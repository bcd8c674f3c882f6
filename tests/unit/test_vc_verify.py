"""Verifying VC 2.0 and SD-JWT VC forms against a fake ledger: every refusal names its step."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from typing import Any

import pytest
from vc_factories import BASE_URL, ISSUED_AT, KINDS, SIGNED_AT, FakeLedger, batch_documents, tree_of

from credreg.chain.states import Verdict
from credreg.documents import WrappedDocument
from credreg.vc.export import export_vc
from credreg.vc.keys import generate_key
from credreg.vc.sdjwt import issue_sd_jwt, present
from credreg.vc.statuslist import decode_list, status_list_credential
from credreg.vc.verify import VC_STEPS, IssuerKeyRecord, verify_credential, verify_vc
from credreg.verify import Outcome, StepStatus, VerificationReport

REVOKE, SUSPEND = 1, 2


def world(kind: str = "skill_level", size: int = 4) -> tuple[FakeLedger, list[WrappedDocument]]:
    ledger = FakeLedger()
    documents = batch_documents(kind, size=size)
    ledger.issue(documents)
    return ledger, documents


def vc_of(ledger: FakeLedger, document: WrappedDocument, **kwargs: Any) -> dict[str, Any]:
    key = kwargs.pop("key", ledger.agency_key)
    return export_vc(
        document,
        key,
        status_base_url=kwargs.pop("base", BASE_URL),
        position=ledger.position(document),
        created=kwargs.pop("created", SIGNED_AT),
    )


def sd_jwt_of(ledger: FakeLedger, document: WrappedDocument) -> str:
    return issue_sd_jwt(
        document,
        ledger.agency_key,
        status_base_url=BASE_URL,
        position=ledger.position(document),
        issued_at=SIGNED_AT,
    )


def failing(report: VerificationReport) -> tuple[str, str]:
    step = next(s for s in report.steps if s.status in (StepStatus.INVALID, StepStatus.ERROR))
    return step.name, report.code


@pytest.mark.parametrize("kind", KINDS)
def test_a_fresh_vc_and_sd_jwt_of_every_kind_verify(kind: str) -> None:
    ledger, documents = world(kind)
    for credential in (vc_of(ledger, documents[2]), sd_jwt_of(ledger, documents[2])):
        report = verify_credential(
            credential if isinstance(credential, str) else json.dumps(credential), ledger
        )
        assert report.verdict is Outcome.VALID, report.steps
        assert [s.name for s in report.steps] == [name for name, _ in VC_STEPS]
        assert all(s.status is StepStatus.VALID for s in report.steps)
        assert report.kind == kind
        assert report.issued_at == ISSUED_AT


def test_an_sd_jwt_with_the_identity_number_hidden_verifies() -> None:
    ledger, documents = world()
    report = verify_credential(present(sd_jwt_of(ledger, documents[0]), ["recipient.idNumber"]), ledger)
    assert report.verdict is Outcome.VALID
    assert report.hidden_fields == ["recipient.idNumber"]
    assert "1 field(s) hidden" in report.step("integrity").reason


def test_a_tampered_vc_is_refused() -> None:
    ledger, documents = world()
    vc = vc_of(ledger, documents[0])
    vc["credentialSubject"]["assessment"]["score"] = 100
    assert failing(verify_vc(vc, ledger)) == ("integrity", "tampered")
    vc["credentialSubject"]["achievement"]["level"] = 1  # no longer the scope it names: not even readable
    assert failing(verify_vc(vc, ledger)) == ("format", "malformed")


def test_a_vc_signed_by_a_key_the_ledger_does_not_bind_is_refused() -> None:
    ledger, documents = world()
    report = verify_vc(vc_of(ledger, documents[0], key=generate_key()), ledger)
    assert failing(report) == ("signer", "issuer-key-unbound")
    assert "not registered" in report.step("signer").reason


def test_a_key_bound_to_another_agency_is_refused() -> None:
    ledger, documents = world()
    key = ledger.agency_key.public_key_hex
    ledger.issuer_keys[key] = replace(ledger.issuer_keys[key], agency_id=8)
    assert failing(verify_vc(vc_of(ledger, documents[0]), ledger)) == ("signer", "issuer-key-unbound")


def test_a_vc_signed_outside_the_keys_window_is_refused() -> None:
    ledger, documents = world()
    ledger.issuer_keys[ledger.agency_key.public_key_hex] = IssuerKeyRecord(7, ISSUED_AT - 1000, SIGNED_AT, 0)
    report = verify_vc(vc_of(ledger, documents[0]), ledger)
    assert failing(report) == ("signer", "issuer-key-unbound")
    assert "outside the key's window" in report.step("signer").reason
    # Signed while the key was still valid: the key's later retirement does not matter.
    assert verify_vc(vc_of(ledger, documents[0], created=SIGNED_AT - 1), ledger).verdict is Outcome.VALID


def test_a_vc_signed_by_a_compromised_key_is_refused() -> None:
    ledger, documents = world()
    ledger.issuer_keys[ledger.agency_key.public_key_hex] = IssuerKeyRecord(
        7, ISSUED_AT - 1000, 0, SIGNED_AT + 100
    )
    assert failing(verify_vc(vc_of(ledger, documents[0]), ledger)) == ("signer", "issuer-key-compromised")


def test_a_vc_from_a_revoked_agency_is_refused() -> None:
    ledger, documents = world()
    root = "0x" + documents[0]["signature"]["merkleRoot"]
    ledger.records[root] = replace(ledger.records[root], verdict=Verdict.AGENCY_REVOKED)
    assert failing(verify_vc(vc_of(ledger, documents[0]), ledger)) == ("agency-standing", "agency-revoked")


def test_a_vc_of_a_scope_the_agency_was_not_accredited_for_is_refused() -> None:
    ledger, documents = world()
    ledger.accreditations.clear()
    assert failing(verify_vc(vc_of(ledger, documents[0]), ledger)) == ("accredited", "not-accredited")


@pytest.mark.parametrize(
    ("target", "action", "code"),
    [("leaf", REVOKE, "revoked"), ("node", SUSPEND, "suspended"), ("root", SUSPEND, "suspended")],
)
def test_status_from_the_lists_and_the_ledger_agree(target: str, action: int, code: str) -> None:
    ledger, documents = world(size=4)
    document = documents[0]
    root = "0x" + document["signature"]["merkleRoot"]
    leaf = bytes.fromhex(document["signature"]["targetHash"])
    path = tree_of(documents).path(leaf)
    chosen = {"leaf": path[0], "node": path[1], "root": path[-1]}[target]
    ledger.set_status(root, "0x" + chosen.hex(), action)
    for credential in (json.dumps(vc_of(ledger, document)), sd_jwt_of(ledger, document)):
        report = verify_credential(credential, ledger)
        assert failing(report) == ("not-revoked", code)
        assert report.verdict is Outcome.INVALID
        purpose = {"revoked": "revocation", "suspended": "suspension"}[code]
        assert (
            report.step("not-revoked").reason == f"{target}-{code}, on the ledger and in the {purpose} list"
        )


def test_a_stale_list_that_disagrees_with_the_ledger_is_an_error_not_a_pass() -> None:
    ledger, documents = world()
    document = documents[0]
    lists_before = copy.deepcopy(ledger.lists)
    ledger.set_status(
        "0x" + document["signature"]["merkleRoot"], "0x" + document["signature"]["targetHash"], REVOKE
    )
    ledger.lists = lists_before
    report = verify_vc(vc_of(ledger, document), ledger)
    assert failing(report) == ("not-revoked", "status-mismatch")
    assert report.verdict is Outcome.ERROR


def test_a_list_signed_by_someone_else_is_an_error() -> None:
    ledger, documents = world()
    ledger.operator_key = generate_key()  # lists were signed by the previous operator key
    report = verify_vc(vc_of(ledger, documents[0]), ledger)
    assert failing(report) == ("not-revoked", "status-mismatch")
    assert "not a trusted operator key" in report.step("not-revoked").reason


@pytest.mark.parametrize("listing", [[], {"credentialSubject": "garbage"}, {"proof": {"type": 7}}])
def test_a_garbled_list_is_an_error_not_a_crash(listing: Any) -> None:
    ledger, documents = world()
    for url in ledger.lists:
        ledger.lists[url] = listing
    assert failing(verify_vc(vc_of(ledger, documents[0]), ledger)) == ("not-revoked", "status-mismatch")


def test_an_expired_list_is_an_error() -> None:
    ledger, documents = world()
    for url, listing in ledger.lists.items():
        purpose, page = url.rsplit("/", 2)[1:]
        ledger.lists[url] = status_list_credential(
            base_url=BASE_URL,
            purpose=purpose,  # type: ignore[arg-type]
            page=int(page),
            bitstring=decode_list(listing["credentialSubject"]["encodedList"]),
            key=ledger.operator_key,
            issued_at=ledger.clock - 100,
            valid_for=50,
        )
    report = verify_vc(vc_of(ledger, documents[0]), ledger)
    assert failing(report) == ("not-revoked", "status-mismatch")
    assert "out of date" in report.step("not-revoked").reason


def test_an_expired_certificate_is_refused() -> None:
    ledger, documents = world()
    ledger.clock = ledger.records["0x" + documents[0]["signature"]["merkleRoot"]].valid_until
    assert failing(verify_vc(vc_of(ledger, documents[0]), ledger)) == ("not-expired", "expired")


def test_never_issued_wrong_registry_and_unreachable_are_told_apart() -> None:
    ledger, documents = world()
    stranger = batch_documents(size=2, start=50)[0]
    assert failing(verify_vc(vc_of(ledger, stranger), ledger)) == ("issued", "not-issued")
    other = FakeLedger(agency_key=ledger.agency_key, registry="0x" + "11" * 20)
    report = verify_vc(vc_of(ledger, documents[0]), other)
    assert failing(report) == ("registry", "wrong-registry")
    assert report.verdict is Outcome.ERROR
    ledger.unreachable = True
    report = verify_vc(vc_of(ledger, documents[0]), ledger)
    assert failing(report) == ("issued", "chain-unreachable")
    assert report.verdict is Outcome.ERROR


def test_files_that_are_not_credentials_are_malformed() -> None:
    ledger, _ = world(size=1)
    for raw in (
        "{}",
        "[]",
        "not-an-sd-jwt",
        b"\xff\xfe",
        '{"@context": ["https://www.w3.org/ns/credentials/v2"]}',
    ):
        report = verify_credential(raw, ledger)
        assert failing(report) == ("format", "malformed"), raw
