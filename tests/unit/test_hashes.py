"""The one bytes32 conversion: every form a hash arrives in gives the same bytes and the same `Hash32`."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from credreg.chain.codec import hash32 as codec_hash32
from credreg.errors import DocumentError
from credreg.hashes import hash32, hash_bytes


@given(st.binary(min_size=32, max_size=32))
@example(b"\x00" * 32)
@example(b"\xab" * 32)
def test_every_form_gives_the_same_hash(raw: bytes) -> None:
    text = raw.hex()
    forms = [raw, bytearray(raw), text, text.upper(), "0x" + text, "0x" + text.upper(), "0X" + text]
    assert {hash_bytes(f) for f in forms} == {raw}
    assert {hash32(f) for f in forms} == {"0x" + text}


def test_the_codec_uses_the_same_conversion() -> None:
    assert codec_hash32 is hash32


@pytest.mark.parametrize(
    "bad",
    [
        "0x1234",
        "zz" * 32,
        "0x" + "zz" * 32,
        "0x" + "ab" * 33,
        "ab" * 31 + " a",
        b"\x00" * 31,
        b"\x00" * 33,
        42,
    ],
)
def test_anything_else_is_refused_naming_the_value(bad: object) -> None:
    with pytest.raises(DocumentError) as refused:
        hash_bytes(bad)  # type: ignore[arg-type]
    with pytest.raises(DocumentError):
        hash32(bad)  # type: ignore[arg-type]
    assert "hash" in str(refused.value) or "hexadecimal" in str(refused.value)
