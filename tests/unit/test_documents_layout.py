"""Certificates in OpenAttestation data: the layout, batches, and reading them back."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from documents_factories import CHAIN_ID, DOMAIN, REGISTRY, certificates, make_certificate, salt_stream
from hypothesis import given, settings
from hypothesis import strategies as st

from credreg.documents import (
    PROTECTED_FIELDS,
    Certificate,
    batch_key,
    binding_from_document,
    certificate_from_document,
    certificate_to_data,
    document_data,
    flatten,
    hidden_fields,
    hideable_fields,
    scope_id,
    verify_signature,
    wrap_certificates,
    wrap_documents,
)
from credreg.documents.store import document_store_address
from credreg.errors import DocumentError, MalformedDocument


@given(certificates())
@settings(deadline=None, max_examples=60)
def test_a_certificate_reads_back_from_its_wrapped_document(certificate: Certificate) -> None:
    [doc] = wrap_certificates([certificate], identity_location=DOMAIN)
    assert verify_signature(doc)
    assert certificate_from_document(doc) == certificate
    assert hidden_fields(doc) == ()


@given(certificates())
@settings(deadline=None, max_examples=30)
def test_every_field_of_a_kind_is_either_protected_or_hideable(certificate: Certificate) -> None:
    leaves = set(flatten(certificate_to_data(certificate, identity_location=DOMAIN)))
    hideable = set(hideable_fields(certificate.kind))
    assert hideable <= leaves
    for leaf in leaves - hideable:
        assert any(leaf == p or leaf.startswith(p + ".") for p in PROTECTED_FIELDS), leaf


def test_the_layout_uses_openattestation_fields_where_they_exist() -> None:
    certificate = make_certificate("technical_grade")
    data = certificate_to_data(
        certificate, identity_location=DOMAIN, renderer_url="https://renderer.example.org"
    )
    assert data["$template"] == {
        "name": "credreg/technical_grade",
        "type": "EMBEDDED_RENDERER",
        "url": "https://renderer.example.org",
    }
    assert data["id"] == certificate.certificate_number
    assert data["issuers"] == [
        {
            "name": certificate.agency.name,
            "documentStore": document_store_address(REGISTRY, certificate.agency.id),
            "identityProof": {"type": "DNS-TXT", "location": DOMAIN},
        }
    ]
    assert data["credreg"]["registry"] == REGISTRY
    assert data["recipient"]["name"] == "张伟"
    credreg = data["credreg"]
    assert credreg["scopeId"] == scope_id("6-31-01-03", 3)
    assert credreg["chainId"] == CHAIN_ID
    assert credreg["gradeTitle"] == "高级工程师"
    assert credreg["validUntil"] == "2028-06-30"
    assert credreg["assessment"] == {
        "date": "2025-06-01",
        "sessionId": "2025-06-A",
        "location": "北京",
        "score": 87,
    }


def test_a_batch_shares_one_root_and_every_certificate_reads_back() -> None:
    batch = [make_certificate("competition_award", n) for n in range(9)]
    docs = wrap_certificates(batch, identity_location=DOMAIN, salts=salt_stream(5))
    assert len({d["signature"]["merkleRoot"] for d in docs}) == 1
    assert [certificate_from_document(d) for d in docs] == batch
    binding = binding_from_document(docs[4])
    assert binding.merkle_root == docs[4]["signature"]["merkleRoot"]
    assert binding.proof == tuple(docs[4]["signature"]["proof"])
    assert binding.scope_id == batch[4].scope_id
    assert (binding.chain_id, binding.registry, binding.agency_id) == (CHAIN_ID, REGISTRY, 7)
    assert binding.identity_location == DOMAIN
    assert batch_key(batch[0]) == batch_key(batch[8])


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"level": 4}, "scope_id"),
        ({"valid_until": None}, "valid_until"),
        ({"chain_id": 1}, "chain_id"),
        ({"agency": {"id": 8, "name": "另一中心"}}, "agency_id"),
    ],
)
def test_a_batch_refuses_certificates_with_another_scope_validity_chain_or_agency(
    change: dict[str, Any], named: str
) -> None:
    batch = [make_certificate(n=0), make_certificate(n=1, **change)]
    with pytest.raises(DocumentError, match="cannot share a batch") as caught:
        wrap_certificates(batch, identity_location=DOMAIN)
    assert named in str(caught.value)


def test_a_batch_refuses_duplicate_certificate_numbers_and_emptiness() -> None:
    with pytest.raises(DocumentError, match="same number"):
        wrap_certificates([make_certificate(n=1), make_certificate(n=1)], identity_location=DOMAIN)
    with pytest.raises(DocumentError, match="at least one"):
        wrap_certificates([], identity_location=DOMAIN)


@pytest.mark.parametrize("location", ["", "https://example.org", "a b.org", "-bad.org"])
def test_the_identity_location_must_be_a_domain(location: str) -> None:
    with pytest.raises(DocumentError, match="not a domain"):
        certificate_to_data(make_certificate(), identity_location=location)


def _wrapped_data(mutate: Any) -> Any:
    data = certificate_to_data(make_certificate(), identity_location=DOMAIN)
    mutate(data)
    return wrap_documents([data])[0]


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.pop("credreg"), "credreg"),
        (lambda d: d["credreg"].update(version=1), "credreg.version"),
        (lambda d: d["credreg"].update(version=3), "credreg.version"),
        (lambda d: d["credreg"].update(registry="0x" + "12" * 20), "issuers.0.documentStore"),
        (lambda d: d["issuers"][0].update(documentStore="0x" + "12" * 20), "issuers.0.documentStore"),
        (lambda d: d["credreg"].update(agencyId=2), "issuers.0.documentStore"),
        (lambda d: d["credreg"].update(kind="diploma"), "credreg.kind"),
        (lambda d: d["credreg"].update(scopeId="0x" + "11" * 32), "credreg.scopeId"),
        (lambda d: d["credreg"].update(level="3"), "credreg.level"),
        (lambda d: d["credreg"].update(validUntil="30 June"), "credreg.validUntil"),
        (lambda d: d["credreg"].pop("validUntil"), "credreg.validUntil"),
        (lambda d: d["issuers"].append(copy.deepcopy(d["issuers"][0])), "issuers"),
        (lambda d: d["issuers"][0].update(documentStore="registry"), "issuers.0.documentStore"),
    ],
)
def test_binding_names_what_is_wrong_in_a_foreign_or_damaged_document(mutate: Any, field: str) -> None:
    doc = _wrapped_data(mutate)
    with pytest.raises(MalformedDocument) as caught:
        binding_from_document(doc)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d["credreg"].update(agencyId=True), "credreg.agencyId"),
        (lambda d: d["credreg"].update(level="3"), "credreg.level"),
        (lambda d: d["credreg"].update(validUntil="30 June"), "credreg.validUntil"),
        (lambda d: d["credreg"].update(scopeId="0x" + "11" * 32), "credreg.scopeId"),
        (lambda d: d["issuers"][0].update(documentStore="0x" + "12" * 20), "issuers.0.documentStore"),
    ],
)
def test_a_binding_read_before_does_not_let_a_damaged_one_through(mutate: Any, field: str) -> None:
    # The binding fields a batch shares are checked once: a document that differs in any of them, even
    # only in its type (True for agency 1), is checked in full, and one that differs in none reads the same.
    def wrapped(mutate: Any) -> Any:
        certificate = make_certificate(agency={"id": 1, "name": "Agency One"})
        data = certificate_to_data(certificate, identity_location=DOMAIN)
        mutate(data)
        return wrap_documents([data])[0]

    good, again = wrapped(lambda d: None), wrapped(lambda d: None)
    assert good["signature"]["targetHash"] != again["signature"]["targetHash"]
    first = binding_from_document(good)
    assert binding_from_document(good) == first
    second = binding_from_document(again)
    assert second._replace(target_hash="", merkle_root="", proof=()) == first._replace(
        target_hash="", merkle_root="", proof=()
    )
    assert (second.target_hash, second.merkle_root) == (
        again["signature"]["targetHash"],
        again["signature"]["merkleRoot"],
    )
    assert first.agency_id == 1
    with pytest.raises(MalformedDocument) as caught:
        binding_from_document(wrapped(mutate))
    assert caught.value.field == field


def test_reading_a_certificate_with_hidden_fields_lists_them() -> None:
    doc = _wrapped_data(lambda d: None)
    doc["data"]["recipient"].pop("idNumber")
    with pytest.raises(DocumentError, match=r"recipient\.idNumber"):
        certificate_from_document(doc)


@given(st.sampled_from(["technical_grade", "skill_level", "competition_award"]))
def test_document_data_gives_plain_values(kind: str) -> None:
    [doc] = wrap_certificates([make_certificate(kind)], identity_location=DOMAIN)
    data = document_data(doc)
    assert data["credreg"]["level"] == 3
    assert data["credreg"]["validUntil"] == "2028-06-30"
    assert data["recipient"]["idType"] == "resident_id"
