"""Where an agency's OpenAttestation document store lives, computed without the chain.

The registry gives every agency a store of its own when it registers it (contracts/AgencyDocumentStore.sol):
a minimal clone (EIP-1167, OpenZeppelin `Clones` with the agency id as its immutable argument) of a template
the registry deployed from its constructor, created with CREATE2 and the agency id as salt. Both addresses
follow from the registry's address alone, so documents can be wrapped, and checked, offline.
"""

from __future__ import annotations

from functools import lru_cache

from credreg.documents._keccak import checksum_address, keccak256

# OpenZeppelin Clones._cloneCodeWithImmutableArgs: the proxy's init code around the template address.
_CLONE_PREFIX = bytes.fromhex("3d81600a3d39f3363d3d373d3d3d363d73")
_CLONE_SUFFIX = bytes.fromhex("5af43d82803e903d91602b57fd5bf3")
_CLONE_CODE_LENGTH = 0x2D


def _address(value: str) -> bytes:
    raw = bytes.fromhex(value[2:] if value.startswith("0x") else value)
    if len(raw) != 20:
        raise ValueError(f"{value!r} is not an address")
    return raw


def store_template_address(registry: str) -> str:
    """The template every store clones: the registry's first CREATE (nonce 1), made in its constructor."""
    rlp = b"\xd6\x94" + _address(registry) + b"\x01"
    return checksum_address(keccak256(rlp)[12:])


@lru_cache(maxsize=1024)
def document_store_address(registry: str, agency_id: int) -> str:
    """The address of agency `agency_id`'s document store under `registry` (EIP-55 form)."""
    if not 0 < agency_id < 2**32:
        raise ValueError(f"agency id {agency_id} is out of range")
    args = agency_id.to_bytes(4, "big")
    init_code = (
        b"\x61"
        + (len(args) + _CLONE_CODE_LENGTH).to_bytes(2, "big")
        + _CLONE_PREFIX
        + _address(store_template_address(registry))
        + _CLONE_SUFFIX
        + args
    )
    salt = agency_id.to_bytes(32, "big")
    digest = keccak256(b"\xff" + _address(registry) + salt + keccak256(init_code))
    return checksum_address(digest[12:])


__all__ = ["document_store_address", "store_template_address"]
