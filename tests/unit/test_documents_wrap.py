"""Wrapping batches: determinism, integrity of every document, and tamper detection."""

from __future__ import annotations

import copy
import gc
import json
from typing import Any

import pytest
from documents_factories import document_data, salt_stream
from hypothesis import example, given, settings
from hypothesis import strategies as st

from credreg.documents import (
    OA_V2_SCHEMA,
    WrappedDocument,
    check_merkle_proof,
    check_target_hash,
    compute_target_hash,
    dump_document,
    flatten,
    load_document,
    verify_signature,
    wrap_document,
    wrap_documents,
)
from credreg.documents import document_data as visible_data
from credreg.errors import MalformedDocument, UnhashableValue

batches = st.lists(document_data, min_size=1, max_size=4)


@given(batches, st.integers(0, 2**32))
@settings(deadline=None, max_examples=30)
def test_wrapping_is_deterministic_given_the_salts(batch: list[dict[str, Any]], seed: int) -> None:
    first = wrap_documents(batch, salts=salt_stream(seed))
    second = wrap_documents(batch, salts=salt_stream(seed))
    assert first == second
    assert json.dumps(first, ensure_ascii=False) == json.dumps(second, ensure_ascii=False)
    other = wrap_documents(batch, salts=salt_stream(seed + 1))
    assert [d["signature"]["targetHash"] for d in other] != [d["signature"]["targetHash"] for d in first]


@given(batches)
@example([{"name": "张三"}])
@example([{"a": "1"}, {"a": "1"}, {"a": "1"}])
@settings(deadline=None, max_examples=30)
def test_every_document_of_every_batch_verifies_against_one_root(batch: list[dict[str, Any]]) -> None:
    wrapped = wrap_documents(batch)
    assert len(wrapped) == len(batch)
    roots = {d["signature"]["merkleRoot"] for d in wrapped}
    assert len(roots) == 1
    for doc, data in zip(wrapped, batch, strict=True):
        assert doc["version"] == OA_V2_SCHEMA
        assert set(doc) == {"version", "data", "signature"}
        assert doc["signature"]["type"] == "SHA3MerkleProof"
        assert verify_signature(doc)
        assert compute_target_hash(doc) == doc["signature"]["targetHash"]
        assert set(flatten(doc["data"])) == set(flatten(data))


def _leaf_paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in _leaf_paths(v, (*prefix, k))]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _leaf_paths(v, (*prefix, i))]
    return [prefix]


def _set(node: Any, path: tuple[Any, ...], value: Any) -> None:
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value


@given(batches, st.data())
@settings(deadline=None, max_examples=40)
def test_any_change_to_any_field_breaks_integrity(batch: list[dict[str, Any]], data: st.DataObject) -> None:
    wrapped = wrap_documents(batch, salts=salt_stream(7))
    index = data.draw(st.integers(0, len(wrapped) - 1))
    doc: WrappedDocument = copy.deepcopy(wrapped[index])
    path = data.draw(st.sampled_from(_leaf_paths(doc["data"])))
    salted = _get(doc["data"], path)
    salt, kind, value = salted.split(":", 2)
    change = data.draw(st.sampled_from(["value", "salt", "type", "drop", "add", "rename"]))
    if change == "value":
        _set(doc["data"], path, f"{salt}:{kind}:{value}x")
    elif change == "salt":
        _set(doc["data"], path, f"{salt[:-1]}{'0' if salt[-1] != '0' else '1'}:{kind}:{value}")
    elif change == "type":
        _set(doc["data"], path, f"{salt}:{'null' if kind != 'null' else 'string'}:{value}")
    elif change == "drop":
        parent = _get(doc["data"], path[:-1])
        if isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent.pop(path[-1])
    elif change == "add":
        doc["data"]["extra field"] = f"{salt}:string:forged"
    else:
        parent = _get(doc["data"], path[:-1])
        if isinstance(parent, dict):
            parent[f"{path[-1]}_"] = parent.pop(path[-1])
        else:
            parent.append(parent[path[-1]])
    assert not check_target_hash(doc)
    assert not verify_signature(doc)


def _get(node: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        node = node[step]
    return node


@given(st.lists(document_data, min_size=2, max_size=4), st.data())
@settings(deadline=None, max_examples=25)
def test_proofs_fail_for_tampered_leaves_roots_and_proof_steps(
    batch: list[dict[str, Any]], data: st.DataObject
) -> None:
    wrapped = wrap_documents(batch)
    a, b = data.draw(st.permutations(range(len(wrapped))))[:2]
    swapped = copy.deepcopy(wrapped[a])
    swapped["signature"]["proof"] = wrapped[b]["signature"]["proof"]
    if swapped["signature"]["proof"] != wrapped[a]["signature"]["proof"]:
        assert not check_merkle_proof(swapped)
    forged_target = copy.deepcopy(wrapped[a])
    forged_target["signature"]["targetHash"] = wrapped[b]["signature"]["targetHash"]
    assert not check_target_hash(forged_target)
    other_root = copy.deepcopy(wrapped[a])
    other_root["signature"]["merkleRoot"] = "00" * 32
    assert check_target_hash(other_root)
    assert not check_merkle_proof(other_root)
    assert not verify_signature(other_root)


def test_a_single_document_is_its_own_root() -> None:
    doc = wrap_document({"recipient": {"name": "陈静"}})
    assert doc["signature"]["proof"] == []
    assert doc["signature"]["merkleRoot"] == doc["signature"]["targetHash"]
    assert verify_signature(doc)
    assert visible_data(doc) == {"recipient": {"name": "陈静"}}


def test_unhashable_values_name_the_document_and_field() -> None:
    with pytest.raises(UnhashableValue) as caught:
        wrap_documents([{"a": 1}, {"a": {"score": 92.5}}])
    assert caught.value.document == 1
    assert caught.value.field == "a.score"
    assert "document 1" in str(caught.value)


def test_the_garbage_collector_is_back_on_after_wrapping_even_on_error() -> None:
    assert gc.isenabled()
    with pytest.raises(UnhashableValue):
        wrap_documents([{"a": "fine"}, {"a": 0.5}])
    assert gc.isenabled()
    wrap_documents([{"a": "fine"}])
    assert gc.isenabled()


def test_an_empty_batch_wraps_to_nothing() -> None:
    assert wrap_documents([]) == []


def test_dump_and_load_round_trip_keeps_chinese_text_readable() -> None:
    doc = wrap_document({"name": "刘洋", "line": "a\u2028b"})
    text = dump_document(doc)
    assert "刘洋" in text
    loaded = load_document(text)
    assert loaded == doc
    assert verify_signature(loaded)
    assert load_document(text.encode()) == doc


def _valid() -> dict[str, Any]:
    return json.loads(dump_document(wrap_document({"a": "b"})))


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.update(version="https://schema.openattestation.com/3.0/schema.json"), "version"),
        (lambda d: d.pop("data"), "data"),
        (lambda d: d.update(data=[]), "data"),
        (lambda d: d.pop("signature"), "signature"),
        (lambda d: d["signature"].update(type="Ed25519"), "signature.type"),
        (lambda d: d["signature"].update(targetHash="0x" + "ab" * 32), "signature.targetHash"),
        (lambda d: d["signature"].update(merkleRoot="ab"), "signature.merkleRoot"),
        (lambda d: d["signature"].update(proof="ab" * 32), "signature.proof"),
        (lambda d: d["signature"].update(proof=["ab" * 32, 5]), "signature.proof.1"),
        (lambda d: d["signature"].update(proof=["ab" * 32 + "," + "ab" * 32]), "signature.proof.0"),
        (lambda d: d["signature"].update(proof=["ab" * 48, "ab" * 16]), "signature.proof.0"),
        (lambda d: d["signature"].update(proof=["ab" * 32, "ab" * 31 + "a\n"]), "signature.proof.1"),
        (lambda d: d["signature"].update(proof=["ab" * 32, "xy" * 32]), "signature.proof.1"),
        (lambda d: d.update(privacy=[]), "privacy"),
        (lambda d: d.update(privacy={"obfuscatedData": ["xyz"]}), "privacy.obfuscatedData.0"),
    ],
)
def test_malformed_documents_name_the_field(mutate: Any, field: str) -> None:
    doc = _valid()
    mutate(doc)
    with pytest.raises(MalformedDocument) as caught:
        load_document(doc)
    assert caught.value.field == field


@pytest.mark.parametrize("text", ["{", "[]", '{"version": NaN}', b"\xff\xfe"])
def test_text_that_is_not_a_document_is_malformed(text: str | bytes) -> None:
    with pytest.raises(MalformedDocument):
        load_document(text)


def test_a_float_in_loaded_data_is_refused_when_hashing() -> None:
    doc = _valid()
    doc["data"]["a"] = 1.5
    with pytest.raises(UnhashableValue, match="floats") as caught:
        check_target_hash(load_document(doc))
    assert caught.value.field == "a"


@pytest.mark.parametrize("form", ["escaped-text", "escaped-bytes", "python-text", "parsed"])
def test_a_lone_surrogate_anywhere_is_a_malformed_document_naming_the_field(form: str) -> None:
    document = wrap_document({"name": "x", "note": "y"})
    marker = json.dumps(document["data"]["note"])
    text = json.dumps(document).replace(marker, '"\\udc00 lone"', 1)
    raw: Any = {
        "escaped-text": text,
        "escaped-bytes": text.encode(),
        "python-text": text.replace("\\udc00", "\udc00"),
        "parsed": json.loads(text),
    }[form]

    with pytest.raises(MalformedDocument, match="lone UTF-16 surrogate") as refused:
        load_document(raw)
    assert refused.value.field == "data.note"


def test_a_surrogate_pair_is_just_a_character() -> None:
    document = wrap_document({"name": "\U0001f600"})
    text = json.dumps(document)  # ASCII JSON: the emoji is written as an escaped surrogate pair
    assert "\\ud83d\\ude00" in text
    assert load_document(text) == document
