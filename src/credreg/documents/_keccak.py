"""Keccak-256 (the Ethereum hash, not NIST SHA3-256), as fast as the installed backends allow.

Wrapping a batch hashes every field of every document (about 250,000 hashes for 10,000 certificates), so
the per-call cost matters: safe-pysha3's C binding costs well under a microsecond a call, pycryptodome's
ctypes binding about ten times that. Both give the same digest; the faster one is used when present.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["checksum_address", "keccak256", "keccak256_hex", "new_keccak256"]


class _Hash(Protocol):
    def digest(self) -> bytes: ...
    def hexdigest(self) -> str: ...


def _constructor() -> Callable[[bytes], _Hash]:
    try:
        sha3: Any = importlib.import_module("sha3")
    except ImportError:
        crypto_keccak: Any = importlib.import_module("Crypto.Hash.keccak")

        def new(data: bytes) -> _Hash:
            hashed: _Hash = crypto_keccak.new(digest_bits=256, data=data)
            return hashed

        return new
    constructor: Callable[[bytes], _Hash] = sha3.keccak_256
    return constructor


new_keccak256 = _constructor()
"""A Keccak-256 hash object over `data` (for hot loops that want to skip a wrapper call)."""


def keccak256(data: bytes) -> bytes:
    """Keccak-256 of `data`, 32 bytes."""
    return new_keccak256(data).digest()


def keccak256_hex(data: bytes) -> str:
    """Keccak-256 of `data`, 64 lowercase hex digits without a 0x prefix."""
    return new_keccak256(data).hexdigest()


_HEX_ADDRESS = re.compile(r"(0[xX])?[0-9a-fA-F]{40}\Z")


def checksum_address(address: str | bytes) -> str:
    """The EIP-55 checksummed form of an address given as 20 bytes or 40 hex digits (0x or not), as
    `eth_utils.to_checksum_address` gives it; anything else goes to that function, to be refused in its words.

    Computed here because importing eth_utils takes about 0.1 s, a quarter of a verifier's start-up budget.
    """
    if isinstance(address, bytes) and len(address) == 20:
        digits = address.hex()
    elif isinstance(address, str) and _HEX_ADDRESS.match(address):
        digits = address[-40:].lower()
    else:
        from eth_utils.address import to_checksum_address

        return str(to_checksum_address(address))
    mask = new_keccak256(digits.encode()).hexdigest()
    return "0x" + "".join(c.upper() if m in "89abcdef" else c for c, m in zip(digits, mask, strict=False))
