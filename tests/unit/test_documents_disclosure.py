"""Selective disclosure never breaks verification and never leaks the hidden value."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from documents_factories import DOMAIN, certificates, document_data, make_certificate
from hypothesis import example, given, settings
from hypothesis import strategies as st

from credreg.documents import (
    PROTECTED_FIELDS,
    Certificate,
    binding_from_document,
    disclose,
    dump_document,
    hidden_fields,
    hideable_fields,
    verify_signature,
    wrap_certificates,
    wrap_document,
)
from credreg.errors import DisclosureError, DocumentError

GROUPS = ["recipient", "credreg.assessment", "credreg.competition", "credreg.occupation.title"]


def _wrap(certificate: Certificate) -> Any:
    return wrap_certificates([certificate], identity_location=DOMAIN)[0]


@given(certificates(), st.data())
@example(make_certificate("skill_level"), None)
@settings(deadline=None, max_examples=60)
def test_disclosure_never_breaks_verification(certificate: Certificate, data: st.DataObject | None) -> None:
    doc = _wrap(certificate)
    hideable = list(hideable_fields(certificate.kind))
    groups = [g for g in GROUPS if any(f.startswith(g + ".") or f == g for f in hideable)]
    if data is None:
        chosen = ["recipient"]
    else:
        chosen = data.draw(st.lists(st.sampled_from(hideable + groups), min_size=1, unique=True))
    disclosed = disclose(doc, chosen)
    assert verify_signature(disclosed)
    assert disclosed["signature"] == doc["signature"]
    expected = {f for f in hideable if any(f == c or f.startswith(c + ".") for c in chosen)}
    assert set(hidden_fields(disclosed)) == expected
    assert len(disclosed["privacy"]["obfuscatedData"]) == len(expected)
    assert binding_from_document(disclosed) == binding_from_document(doc)
    text = dump_document(disclosed)
    for field in expected:
        node: Any = doc["data"]
        for part in field.split("."):
            node = node[part]
        salt = node.split(":", 1)[0]
        assert salt not in text, f"the salt of {field} is still in the file"
    assert "{}" not in text.replace(" ", "")


def test_the_hidden_value_is_gone_and_the_original_is_untouched() -> None:
    doc = _wrap(make_certificate())
    before = copy.deepcopy(doc)
    disclosed = disclose(doc, ["recipient.idNumber"])
    assert doc == before
    number = make_certificate().holder.id_number
    assert number not in dump_document(disclosed)
    assert number in dump_document(doc)
    assert hidden_fields(disclosed) == ("recipient.idNumber",)


def test_hiding_every_field_of_an_object_removes_the_object() -> None:
    doc = _wrap(make_certificate())
    disclosed = disclose(doc, ["recipient.name", "recipient.idType", "recipient.idNumber"])
    assert "recipient" not in disclosed["data"]
    assert verify_signature(disclosed)
    deeper = disclose(_wrap(make_certificate()), ["credreg.occupation.title"])
    assert deeper["data"]["credreg"]["occupation"].keys() == {"code"}


def test_disclosing_twice_accumulates() -> None:
    doc = _wrap(make_certificate())
    once = disclose(doc, ["recipient.idNumber"])
    twice = disclose(once, ["credreg.assessment.score", "id"])
    assert verify_signature(twice)
    assert set(hidden_fields(twice)) == {"recipient.idNumber", "credreg.assessment.score", "id"}
    assert len(twice["privacy"]["obfuscatedData"]) == 3


@pytest.mark.parametrize(
    "field", [*PROTECTED_FIELDS, "credreg", "issuers.0.name", "credreg.occupation", "$template.name"]
)
def test_fields_needed_for_verification_cannot_be_hidden(field: str) -> None:
    with pytest.raises(DisclosureError, match="needed to verify") as caught:
        disclose(_wrap(make_certificate()), [field])
    assert caught.value.field == field


@pytest.mark.parametrize(
    "field", ["recipient.nickname", "credreg.competition", "id.0", "", "recipient..name"]
)
def test_unknown_fields_are_refused(field: str) -> None:
    with pytest.raises(DisclosureError):
        disclose(_wrap(make_certificate()), [field])


def test_an_already_hidden_field_is_refused() -> None:
    disclosed = disclose(_wrap(make_certificate()), ["recipient.idNumber"])
    with pytest.raises(DisclosureError, match="no such visible field"):
        disclose(disclosed, ["recipient.idNumber"])


def test_nothing_to_hide_is_refused() -> None:
    with pytest.raises(DisclosureError, match="at least one"):
        disclose(_wrap(make_certificate()), [])


def test_a_tampered_document_is_not_disclosed() -> None:
    doc = _wrap(make_certificate())
    doc["data"]["id"] = doc["data"]["id"] + "9"
    with pytest.raises(DocumentError, match="does not verify"):
        disclose(doc, ["recipient.idNumber"])


def _array_doc() -> Any:
    return wrap_document(
        {"issuers": [{"name": "x"}], "items": ["a", "b", {"c": "d"}], "nested": [{"p": "1", "q": "2"}]}
    )


def test_trailing_array_elements_can_be_hidden() -> None:
    doc = _array_doc()
    disclosed = disclose(doc, ["items.2", "items.1"])
    assert disclosed["data"]["items"] == doc["data"]["items"][:1]
    assert verify_signature(disclosed)
    emptied = disclose(_array_doc(), ["items.0", "items.1", "items.2"])
    assert "items" not in emptied["data"]
    assert verify_signature(emptied)
    inner = disclose(_array_doc(), ["nested.0.p", "nested.0.q"])
    assert "nested" not in inner["data"]
    assert verify_signature(inner)


def test_hiding_an_array_element_before_a_visible_one_is_refused() -> None:
    with pytest.raises(DisclosureError, match="renumber") as caught:
        disclose(_array_doc(), ["items.0"])
    assert caught.value.field == "items.0"


def _node_paths(node: Any, prefix: str = "") -> list[str]:
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    paths = []
    for key, value in items:
        path = f"{prefix}.{key}" if prefix else str(key)
        paths.append(path)
        paths.extend(_node_paths(value, path))
    return paths


def _has_empty_container(node: Any) -> bool:
    if isinstance(node, dict | list):
        values = node.values() if isinstance(node, dict) else node
        return not node or any(_has_empty_container(v) for v in values)
    return False


def _disclose_or_refusal(doc: Any, fields: list[str]) -> Any:
    try:
        return disclose(doc, fields)
    except DisclosureError as error:
        return error


@given(document_data, st.data())
@settings(deadline=None, max_examples=60)
def test_disclosing_any_fields_of_any_document_keeps_it_verifiable(
    data: dict[str, Any], draw: st.DataObject
) -> None:
    doc = wrap_document(data)
    chosen = draw.draw(
        st.lists(st.sampled_from(_node_paths(doc["data"])), min_size=1, max_size=4, unique=True)
    )
    disclosed = _disclose_or_refusal(doc, chosen)
    if isinstance(disclosed, DisclosureError):
        # The only refusals for fields that exist: array holes and protected names.
        assert "renumber" in disclosed.reason or "needed to verify" in disclosed.reason
        return
    assert verify_signature(disclosed)
    # `data` itself may end up empty when everything is hidden; nothing inside it may.
    assert not any(_has_empty_container(v) for v in disclosed["data"].values())
    visible = set(_node_paths(disclosed["data"]))
    assert not visible & set(chosen)
