"""Certificates exported as W3C VC 2.0: shape, round trips for every kind, proofs, shipped contexts."""

from __future__ import annotations

import copy
import json

import pytest
from documents_factories import CHAIN_ID, DOMAIN, REGISTRY, REPO, certificates, make_certificate
from hypothesis import given, settings
from vc_factories import BASE_URL, KINDS, SIGNED_AT, batch_documents

from credreg.documents import AnyCertificate, disclose, wrap_certificates
from credreg.errors import DocumentError, KeystoreError, MalformedDocument
from credreg.vc.export import export_vc, read_vc
from credreg.vc.jsonld import CREDENTIALS_V2, CREDREG_CONTEXT, canonicalize, document_loader
from credreg.vc.keys import (
    base58btc_decode,
    base58btc_encode,
    did_key,
    generate_key,
    load_signing_key,
    public_key_from_did,
)
from credreg.vc.proof import check_proof

KEY = generate_key()


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_round_trips_through_its_vc(kind: str) -> None:
    documents = batch_documents(kind, size=3)
    vc = export_vc(documents[1], KEY, status_base_url=BASE_URL, position=41, created=SIGNED_AT)

    contents = read_vc(json.loads(json.dumps(vc)))

    assert contents.certificate == make_certificate(kind, 1)
    signature = documents[1]["signature"]
    assert contents.anchor.target_hash == "0x" + signature["targetHash"]
    assert contents.anchor.merkle_root == "0x" + signature["merkleRoot"]
    assert contents.anchor.proof == tuple("0x" + p for p in signature["proof"])
    assert (contents.anchor.chain_id, contents.anchor.registry, contents.anchor.agency_id) == (
        CHAIN_ID,
        REGISTRY,
        7,
    )
    assert [(s.purpose, s.index) for s in contents.statuses] == [("revocation", 41), ("suspension", 41)]
    assert contents.issuer == KEY.did
    assert check_proof(vc).public_key == KEY.public_key


@settings(deadline=None, max_examples=25)
@given(certificates())
def test_any_certificate_round_trips_and_its_proof_verifies(certificate: AnyCertificate) -> None:
    document = wrap_certificates([certificate], identity_location=DOMAIN)[0]
    vc = export_vc(document, KEY, status_base_url=BASE_URL, position=0, created=SIGNED_AT)
    assert read_vc(vc).certificate == certificate
    assert check_proof(json.loads(json.dumps(vc, ensure_ascii=False))).public_key == KEY.public_key


def test_the_vc_uses_the_documented_vocabulary() -> None:
    vc = export_vc(
        batch_documents("technical_grade", 1)[0], KEY, status_base_url=BASE_URL, position=0, created=SIGNED_AT
    )
    assert vc["@context"] == [CREDENTIALS_V2, CREDREG_CONTEXT]
    assert vc["type"] == ["VerifiableCredential", "OpenBadgeCredential", "TechnicalGradeCredential"]
    assert vc["issuer"] == {"id": KEY.did, "name": "某市职业技能鉴定指导中心"}
    assert vc["validFrom"] == "2025-06-29T16:00:00Z"  # the issue date's midnight in China Standard Time
    assert vc["validUntil"] == "2028-06-30T16:00:00Z"  # the end of the last valid day there
    subject = vc["credentialSubject"]
    assert subject["identifier"][0]["identityType"] == "nationalIdentityNumber"
    assert subject["achievement"]["achievementType"] == "Certification"
    assert subject["achievement"]["gradeTitle"] == "高级工程师"
    assert vc["evidence"][0]["type"] == ["LedgerAnchor"]
    assert [s["statusPurpose"] for s in vc["credentialStatus"]] == ["revocation", "suspension"]
    proof = vc["proof"]
    assert (proof["type"], proof["cryptosuite"], proof["proofPurpose"]) == (
        "DataIntegrityProof",
        "eddsa-rdfc-2022",
        "assertionMethod",
    )
    assert proof["verificationMethod"] == f"{KEY.did}#{KEY.did.removeprefix('did:key:')}"


def test_open_ended_certificates_have_no_valid_until() -> None:
    documents = batch_documents("competition_award", 1, valid_until=None)
    vc = export_vc(documents[0], KEY, status_base_url=BASE_URL, position=0, created=SIGNED_AT)
    assert "validUntil" not in vc
    assert "validThrough" not in vc["credentialSubject"]
    assert read_vc(vc).certificate.valid_until is None


@pytest.mark.parametrize(
    "tamper",
    [
        lambda vc: vc["credentialSubject"].update(name="李四"),
        lambda vc: vc["credentialSubject"]["achievement"].update(level=1),
        lambda vc: vc["evidence"][0].update(agencyId=8),
        lambda vc: vc["credentialStatus"][0].update(statusListIndex="42"),
        lambda vc: vc["evidence"][0]["merkleProof"].reverse(),
        lambda vc: vc["proof"].update(created="2025-07-01T00:00:00Z"),
    ],
    ids=["holder", "level", "agency", "status-index", "proof-order", "created"],
)
def test_any_change_breaks_the_proof(tamper) -> None:  # type: ignore[no-untyped-def]
    vc = export_vc(batch_documents(size=4)[0], KEY, status_base_url=BASE_URL, position=0, created=SIGNED_AT)
    tampered = copy.deepcopy(vc)
    tamper(tampered)
    with pytest.raises(MalformedDocument, match="signature does not match"):
        check_proof(tampered)


def test_properties_the_contexts_do_not_define_are_refused_not_silently_unsigned() -> None:
    vc = export_vc(batch_documents(size=1)[0], KEY, status_base_url=BASE_URL, position=0, created=SIGNED_AT)
    vc["credentialSubject"]["nickname"] = "Wei"
    with pytest.raises(MalformedDocument, match="nickname"):
        check_proof(vc)
    vc["credentialSubject"].pop("nickname")
    vc["type"].append("MadeUpCredential")
    with pytest.raises(MalformedDocument, match="MadeUpCredential"):
        canonicalize(vc)


def test_contexts_are_never_fetched() -> None:
    with pytest.raises(MalformedDocument, match="never fetched"):
        document_loader("https://www.w3.org/2018/credentials/v1")
    vc = export_vc(batch_documents(size=1)[0], KEY, status_base_url=BASE_URL, position=0, created=SIGNED_AT)
    vc["@context"] = [CREDENTIALS_V2, "https://attacker.example/context.jsonld"]
    with pytest.raises(MalformedDocument, match="never fetched"):
        canonicalize(vc)


def test_the_shipped_credentials_context_is_the_published_one() -> None:
    shipped = (REPO / "src/credreg/vc/contexts/credentials-v2.jsonld").read_bytes()
    published = (REPO / "node_modules/@digitalbazaar/credentials-context/contexts/v2.jsonld").read_bytes()
    assert json.loads(shipped) == json.loads(published)


def test_a_document_with_hidden_fields_cannot_become_a_vc() -> None:
    partial = disclose(batch_documents(size=2)[0], ["recipient.idNumber"])
    with pytest.raises(DocumentError, match="hidden"):
        export_vc(partial, KEY, status_base_url=BASE_URL, position=0, created=SIGNED_AT)


def test_did_key_names_the_public_key() -> None:
    assert KEY.did.startswith("did:key:z6Mk")
    assert public_key_from_did(KEY.verification_method) == KEY.public_key
    assert did_key(KEY.public_key) == KEY.did
    for data in (b"", b"\0\0\1", bytes(range(40))):
        assert base58btc_decode(base58btc_encode(data)) == data
    with pytest.raises(MalformedDocument, match="fragment"):
        public_key_from_did(f"{KEY.did}#other")
    with pytest.raises(MalformedDocument):
        public_key_from_did("did:web:registry.example.org")


def test_key_files_are_pkcs8_pem(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives import serialization

    pem = KEY.private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (tmp_path / "issuer.pem").write_bytes(pem)
    assert load_signing_key(tmp_path / "issuer.pem").did == KEY.did
    (tmp_path / "bad.pem").write_text("not a key")
    with pytest.raises(KeystoreError, match="not a PEM private key"):
        load_signing_key(tmp_path / "bad.pem")
    with pytest.raises(KeystoreError, match="cannot read"):
        load_signing_key(tmp_path / "missing.pem")
