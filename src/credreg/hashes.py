"""The one bytes32 conversion: every 32-byte hash (roots, leaves, proof nodes, scope ids, keys) goes through here.

A hash crosses every boundary (contract calls, events, JSON, the database) as `Hash32`: "0x" and 64 lowercase
hex digits, made by `hash32`. Inside a computation (merkle trees, keccak) it is 32 raw bytes, made by
`hash_bytes`. Both read 32 raw bytes or 64 hex digits in any case, with or without "0x" (OpenAttestation
documents write hashes without it); anything else is refused with a `DocumentError` naming the value.

Two text forms are for the edges only: `is_hash32_text` tells whether a text is already written as a
boundary hash is ("0x" and 64 hex digits, in either case; a field that must not take OpenAttestation's bare
hex checks it before `hash32`), and `with_0x` shows a document's own bare hex with "0x" in front, its
digits as the document wrote them (a report quotes the document, even one written in upper case).

This module sits below `documents/` and `chain/` so that both use it.
"""

from __future__ import annotations

import re
from typing import NewType

from credreg.errors import DocumentError

__all__ = ["Hash32", "hash32", "hash_bytes", "is_hash32_text", "with_0x"]

#: A 32-byte hash as it crosses every boundary: "0x" and 64 lowercase hex digits.
Hash32 = NewType("Hash32", str)

_HEX32 = re.compile(r"0x[0-9a-fA-F]{64}\Z")


def hash_bytes(value: str | bytes) -> bytes:
    """The 32 raw bytes of a hash given as bytes or as hex text (with or without "0x")."""
    if isinstance(value, bytes | bytearray):
        raw = bytes(value)
    elif isinstance(value, str):
        text = value[2:] if value[:2] in ("0x", "0X") else value
        if len(text) != 64:
            raise DocumentError(f"{value!r} is not a 32-byte hash (64 hex digits)")
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raise DocumentError(f"{value!r} is not hexadecimal") from None
    else:
        raise DocumentError(f"{value!r} is not a 32-byte hash (64 hex digits)")
    if len(raw) != 32:
        raise DocumentError(f"a hash must be 32 bytes, not {len(raw)}")
    return raw


def hash32(value: str | bytes) -> Hash32:
    """A hash as `Hash32` (lowercase 0x-hex), from the same inputs as `hash_bytes`."""
    if isinstance(value, str) and _HEX32.match(value) is not None:
        return Hash32(value.lower())  # the usual form, without a round trip through bytes
    return Hash32("0x" + hash_bytes(value).hex())


def is_hash32_text(value: str) -> bool:
    """Whether `value` is "0x" and 64 hex digits (either case): a hash written as it crosses a boundary."""
    return _HEX32.match(value) is not None


def with_0x(value: str) -> str:
    """A document's hash text (OpenAttestation writes bare hex) with "0x" in front, its digits untouched."""
    return value if value.startswith("0x") else "0x" + value
