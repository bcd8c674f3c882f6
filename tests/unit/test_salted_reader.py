"""The batch reader's way for documents whose values are all salted strings and integers (one match for
every salt and tag, each leaf written out) must read exactly what `read_salted` reads, and leave anything
else (another type at a leaf, a malformed salt, an integer it refuses, a surrogate) to the general way."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from documents_factories import salt_stream
from hypothesis import example, given
from hypothesis import strategies as st

from credreg.documents.canonical import SaltedReader, read_salted, salt_data

SALT = "0b5d2f4e-1c3a-4f6b-8d9e-a1b2c3d4e5f6"

# Plain data of strings and integers only, which the fast way is built for.
_plain_leaves = st.one_of(st.text(max_size=6), st.integers(-(2**53) + 1, 2**53 - 1))
# Keys are the document's own: some look like the reader's generated code.
_keys = st.sampled_from(["a", "b", "credreg", "名", '"q"', "x\\y", "$template", "v[0]", "v[1]", "}"])
_plain_trees = st.recursive(
    _plain_leaves,
    lambda inner: (
        st.lists(inner, min_size=1, max_size=3) | st.dictionaries(_keys, inner, min_size=1, max_size=3)
    ),
    max_leaves=10,
)
# What may stand at a leaf of a later document of the same shape.
_odd_leaves = st.one_of(
    st.text(max_size=6).map(lambda t: f"{SALT}:string:{t}"),
    st.integers(-(2**60), 2**60).map(lambda n: f"{SALT}:number:{n}"),
    st.sampled_from(
        [f"{SALT}:boolean:true", f"{SALT}:null:null", f"{SALT}:number:01", f"{SALT}:number: 7 ",
         f"{SALT}:number:-0", f"{SALT}:number:" + "9" * 17, f"{SALT}:string:\u3000x\u3000",
         f"{SALT}:string:\ud800", f"{SALT.upper()}:string:x", f"{SALT[:-1]}:string:x", f"{SALT}:string",
         f"{SALT}:strinG:x", f"{SALT[:14]}5{SALT[15:]}:string:x", SALT, "plain", "", "\ud800", 5, None,
         True, {}, [], ["x"]]
    ),
)  # fmt: skip


def _read(reader: SaltedReader, data: dict[str, Any]) -> object:
    done = reader.read(data)
    # The reader lists the fields in its shape's order; `read_salted` in the document's (the same here).
    return None if done is None else (done[0], done[1], list(done[2]))


def _leaf_paths(node: Any, path: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, dict):
        return [p for key, value in node.items() for p in _leaf_paths(value, (*path, key))]
    if isinstance(node, list):
        return [p for i, value in enumerate(node) for p in _leaf_paths(value, (*path, i))]
    return [tuple(path)]


@given(
    st.dictionaries(_keys, _plain_trees, min_size=1, max_size=4),
    st.integers(0, 2**32),
    _odd_leaves,
    st.integers(0, 99),
)
@example({"a": "x", "b": 7}, 0, f"{SALT}:string:7", 1)  # a number where the first had a string
@example({"a": "x", "b": 7}, 0, f"{SALT}:number:7", 0)  # and the other way round
@example({"a": "x", "b": 7}, 0, f"{SALT}:number:9007199254740992", 1)  # past the safe range
@example({"a": "x", "b": 7}, 0, f"{SALT}:string:\ud800", 0)  # cannot be hashed as UTF-8
@example({"a": "x", "b": 7}, 0, f"{SALT}:string:é\u2028 ", 0)  # trimmed as JavaScript trims
@example({"v[0]": "x", "v[1]": 7}, 0, f"{SALT}:string:y", 0)  # keys the generated code must not rewrite
def test_the_fast_way_reads_what_the_one_walk_reads(
    data: dict[str, Any], seed: int, odd: Any, where: int
) -> None:
    reader = SaltedReader()
    first = salt_data(data, iter(salt_stream(seed)))
    second = salt_data(data, iter(salt_stream(seed + 1)))
    assert _read(reader, first) == read_salted(first)
    shape = reader._shapes[0]
    assert shape.fast is not None  # built for values of strings and integers alone
    assert shape.fast(shape.extract(second)) is not None
    assert _read(reader, second) == read_salted(second)
    changed = json.loads(json.dumps(second))
    *parents, last = _leaf_paths(changed)[where % len(_leaf_paths(changed))]
    node: Any = changed
    for key in parents:
        node = node[key]
    node[last] = odd
    assert _read(reader, changed) == read_salted(changed)
    assert _read(reader, second) == read_salted(second)


def test_data_with_other_types_gets_no_fast_way_and_is_read_as_before() -> None:
    reader = SaltedReader()
    data = salt_data({"a": True, "b": None, "c": "x"}, iter(salt_stream(3)))
    assert _read(reader, data) == read_salted(data)
    assert reader._shapes[0].fast is None
    again = salt_data({"a": False, "b": None, "c": "y"}, iter(salt_stream(4)))
    assert _read(reader, again) == read_salted(again)


def test_data_nested_past_what_python_compiles_is_read_without_learning_its_shape() -> None:
    nested: Any = "x"
    for _ in range(250):
        nested = {"k": nested}
    data = salt_data(nested, iter(salt_stream(5)))
    reader = SaltedReader()
    assert _read(reader, data) == read_salted(data)
    assert reader._shapes == []
