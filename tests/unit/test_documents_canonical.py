"""Salting, flattening and field hashing follow OpenAttestation's JavaScript semantics exactly."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import pytest
from documents_factories import document_data, salt_stream
from hypothesis import example, given
from hypothesis import strategies as st

from credreg.documents import (
    MAX_SAFE_INTEGER,
    digest_data,
    field_hash,
    flatten,
    is_salted,
    js_string,
    json_stringify,
    random_salts,
    salt_and_hash,
    salt_data,
    salt_value,
    unsalt_data,
    unsalt_value,
)
from credreg.documents._keccak import keccak256_hex
from credreg.documents.canonical import SaltedReader, digest_hashes, read_salted
from credreg.errors import DocumentError, MalformedDocument, UnhashableValue

UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\Z")
SALT = "0b5d2f4e-1c3a-4f6b-8d9e-a1b2c3d4e5f6"


@given(st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER))
@example(0)
@example(-1)
@example(MAX_SAFE_INTEGER)
@example(-MAX_SAFE_INTEGER)
@example(10**15)
def test_js_string_of_safe_integers_is_plain_decimal(n: int) -> None:
    assert js_string(n) == str(n)
    assert salt_value(n, SALT) == f"{SALT}:number:{n}"


@pytest.mark.parametrize(
    ("value", "typed"),
    [
        (True, "boolean:true"),
        (False, "boolean:false"),
        (None, "null:null"),
        ("", "string:"),
        ("a:b", "string:a:b"),
    ],
)
def test_salt_value_annotates_javascript_typeof(value: object, typed: str) -> None:
    assert salt_value(value, SALT) == f"{SALT}:{typed}"


@pytest.mark.parametrize("n", [MAX_SAFE_INTEGER + 1, -MAX_SAFE_INTEGER - 1, 10**21])
def test_integers_beyond_javascripts_safe_range_are_refused(n: int) -> None:
    with pytest.raises(UnhashableValue, match="safe range") as caught:
        salt_data({"credreg": {"big": n}})
    assert caught.value.field == "credreg.big"


@pytest.mark.parametrize("value", [1.5, 1.0, float("nan"), float("inf"), -0.0])
def test_floats_are_refused_naming_the_field_path(value: float) -> None:
    with pytest.raises(UnhashableValue, match="floats are not hashed reproducibly") as caught:
        salt_data({"a": {"b": [1, value]}})
    assert caught.value.field == "a.b.1"


@pytest.mark.parametrize(
    ("data", "field", "reason"),
    [
        ({"a.b": "x"}, "a.b", "must not contain '.'"),
        ({"outer": {"in.ner": 1}}, "outer.in.ner", "must not contain '.'"),
        ({"": "x"}, "(empty key)", "must not be empty"),
        ({"a": {"": 1}}, "a.", "must not be empty"),
        ({"a": {1: "x"}}, "a.1", "must be strings"),
        ({"__proto__": "x"}, "__proto__", "__proto__"),
        ({"a": {}}, "a", "empty objects and arrays"),
        ({"a": [1, []]}, "a.1", "empty objects and arrays"),
        ({"a": b"bytes"}, "a", "type bytes"),
        ({"name": "lone \ud800 surrogate"}, "name", "surrogate"),
        ({"bad \udfff key": "x"}, "bad \udfff key", "surrogate"),
    ],
)
def test_unhashable_data_is_refused_with_the_field_named(
    data: dict[Any, Any], field: str, reason: str
) -> None:
    with pytest.raises(UnhashableValue, match=re.escape(reason)) as caught:
        salt_data(data)
    assert caught.value.field == field
    assert isinstance(caught.value, DocumentError)


def test_random_salts_are_distinct_version_4_uuids() -> None:
    salts = random_salts()
    drawn = [next(salts) for _ in range(3000)]
    assert all(UUID4.match(s) for s in drawn)
    assert len(set(drawn)) == len(drawn)


def test_given_salts_must_be_uuid4_and_must_not_run_out() -> None:
    with pytest.raises(UnhashableValue, match="not a version-4 UUID"):
        salt_data({"a": "x"}, iter(["not-a-uuid"]))
    with pytest.raises(UnhashableValue, match="ran out") as caught:
        salt_data({"a": "x", "b": "y"}, iter([SALT]))
    assert caught.value.field == "b"


def test_salting_leaves_the_input_untouched_and_walks_arrays_by_index() -> None:
    data = {"name": "王芳", "scores": [90, {"part": "B"}], "ok": True, "none": None}
    before = json.dumps(data)
    salted = salt_data(data, iter(salt_stream(1)))
    assert json.dumps(data) == before
    assert salted["name"].endswith(":string:王芳")
    assert salted["scores"][0].endswith(":number:90")
    assert salted["scores"][1]["part"].endswith(":string:B")
    assert salted["ok"].endswith(":boolean:true")
    assert salted["none"].endswith(":null:null")
    assert all(is_salted(v) for v in flatten(salted).values())


@given(document_data)
def test_unsalt_restores_what_was_salted(data: dict[str, Any]) -> None:
    # OpenAttestation trims `type:value`, which can only shorten the value's end.
    def trimmed(value: Any) -> Any:
        if isinstance(value, str):
            return value.rstrip(
                "\t\n\v\f\r \xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
            )
        if isinstance(value, dict):
            return {k: trimmed(v) for k, v in value.items()}
        if isinstance(value, list):
            return [trimmed(v) for v in value]
        return value

    assert unsalt_data(salt_data(data)) == trimmed(data)


def test_unsalt_passes_unsalted_strings_and_refuses_unknown_annotations() -> None:
    assert unsalt_value("plain text") == "plain text"
    assert unsalt_value(f"{SALT}:string: padded\u3000 ") == " padded"
    with pytest.raises(MalformedDocument, match="unknown type annotation"):
        unsalt_value(f"{SALT}:date:2025-01-01")
    with pytest.raises(MalformedDocument, match="not an integer"):
        unsalt_value(f"{SALT}:number:1.5")
    with pytest.raises(MalformedDocument, match="not an integer"):
        unsalt_value(f"{SALT}:number:" + "9" * 5000)  # past `int`'s 4,300 digits: no ValueError
    assert unsalt_value(f"{SALT}:number:-9007199254740991") == -(2**53 - 1)


def test_flatten_joins_keys_with_dots_and_keeps_empty_containers_as_leaves() -> None:
    data = {"a": {"b": [1, {"c": None}], "e": {}}, "f": []}
    assert flatten(data) == {"a.b.0": 1, "a.b.1.c": None, "a.e": {}, "f": []}
    assert flatten([{"x": 1}], "list") == {"list.0.x": 1}


def test_json_stringify_matches_javascript_spacing_and_escapes() -> None:
    assert json_stringify({"k": ["张三", 1, True, None, {}]}) == '{"k":["张三",1,true,null,{}]}'
    assert json_stringify('"\\\b\f\n\r\t\x01\x7f\u2028') == '"\\"\\\\\\b\\f\\n\\r\\t\\u0001\x7f\u2028"'
    with pytest.raises(UnhashableValue, match="floats"):
        json_stringify({"k": [0.5]})


def test_field_hash_is_keccak_of_the_single_key_object() -> None:
    value = f"{SALT}:string:李娜"
    expected = keccak256_hex(('{"recipient.name":"' + value + '"}').encode())
    assert field_hash("recipient.name", value) == expected


@given(document_data, st.integers(0, 2**32))
def test_one_pass_salt_and_hash_agrees_with_flatten_and_field_hash(data: dict[str, Any], seed: int) -> None:
    salted, hashes = salt_and_hash(data, iter(salt_stream(seed)))
    assert salted == salt_data(data, iter(salt_stream(seed)))
    assert sorted(hashes) == sorted(field_hash(k, v) for k, v in flatten(salted).items())
    expected = keccak256_hex(json.dumps(sorted(hashes), separators=(",", ":")).encode())
    assert digest_data(salted) == expected


def test_digest_counts_obfuscated_hashes_like_visible_ones() -> None:
    salted = salt_data({"a": "1", "b": "2"}, iter(salt_stream(3)))
    full = digest_data(salted)
    partial = dict(salted)
    hidden = field_hash("b", partial.pop("b"))
    assert digest_data(partial, [hidden]) == full
    assert digest_data(partial) != full


def _separately(data: Any) -> tuple[Any, list[str], list[str]] | Exception:
    """What `unsalt_data`, `flatten` and `field_hash` say of `data`, or the first error they raise."""
    try:
        plain = unsalt_data(data)
        flat = flatten(data)
        return plain, [field_hash(k, v) for k, v in flat.items()], list(flat)
    except DocumentError as exc:
        return exc


# Leaves a verifier may meet in a file: salted values of every type, malformed ones, unsalted ones.
_leaves = st.one_of(
    st.text(max_size=8).map(lambda t: f"{SALT}:string:{t}"),
    st.integers(-(2**60), 2**60).map(lambda n: f"{SALT}:number:{n}"),
    st.sampled_from(
        [f"{SALT}:boolean:true", f"{SALT}:null:null", f"{SALT}:number:01", f"{SALT}:number: 7 ",
         f"{SALT}:date:2025", f"{SALT.upper()}:string:x", "plain", "\ud800", 5, None, True, {}, []]
    ),
)  # fmt: skip
_salted_keys = st.sampled_from(["a", "b", "credreg", "a.b", "", "__proto__", "名"])
_salted_trees = st.recursive(
    _leaves,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_salted_keys, inner, max_size=3),
    max_leaves=8,
)


@given(document_data, st.integers(0, 2**32))
@example({"a": 1, "b": [True, None, "x"]}, 0)
def test_one_walk_read_agrees_with_unsalt_flatten_and_hash(data: dict[str, Any], seed: int) -> None:
    salted = salt_data(data, iter(salt_stream(seed)))
    read = read_salted(salted)
    assert read is not None
    plain, hashes, paths = read
    assert (plain, hashes, paths) == _separately(salted)
    assert digest_hashes(hashes) == digest_data(salted)


@given(st.dictionaries(_salted_keys, _salted_trees, min_size=1, max_size=4))
@example({"a": f"{SALT}:number:9007199254740992"})
@example({"a": f"{SALT}:number:" + "1" * 5000})  # past `int`'s 4,300 digits: refused, not a crash
@example({"a": {"b": f"{SALT}:string:\ud800"}})
def test_one_walk_read_of_odd_data_agrees_or_leaves_it_to_the_separate_steps(data: dict[str, Any]) -> None:
    read = read_salted(data)
    if read is not None:
        assert read == _separately(data)


def _unordered(read: tuple[dict[str, Any], list[str], Sequence[str]] | None) -> object:
    return None if read is None else (read[0], sorted(zip(read[2], read[1], strict=True)))


@given(document_data, st.integers(0, 2**32), _salted_trees, st.integers(0, 2**16))
@example({"a": 1, "b": [True, None, "x"]}, 0, f"{SALT}:number:01", 1)
@example({"a": "x", "b": {"c": "y"}}, 0, {"c": f"{SALT}:string:z", "d": f"{SALT}:string:w"}, 1)
@example({"a": "x\u3000", "b": [7, "y "]}, 0, f"{SALT}:number:9007199254740992", 2)
@example({"a": 1, "b": 2}, 0, f"{SALT}:number:" + "1" * 5000, 1)
def test_a_batch_reader_agrees_with_the_one_walk_read(
    data: dict[str, Any], seed: int, odd: Any, where: int
) -> None:
    # The reader learns the shape from the first document, then reads a second of the same shape, and one
    # with a leaf replaced by anything at all, as `read_salted` does (but for the order of the fields).
    reader = SaltedReader()
    first = salt_data(data, iter(salt_stream(seed)))
    second = salt_data(data, iter(salt_stream(seed + 1)))
    assert _unordered(reader.read(first)) == _unordered(read_salted(first))
    assert _unordered(reader.read(second)) == _unordered(read_salted(second))
    changed = json.loads(json.dumps(second))
    node: Any = changed
    while True:
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        key = keys[where % len(keys)]
        if isinstance(node[key], dict | list) and node[key]:
            node = node[key]
            continue
        node[key] = odd
        break
    assert _unordered(reader.read(changed)) == _unordered(read_salted(changed))
    assert _unordered(reader.read(second)) == _unordered(read_salted(second))
