"""Ed25519 keys for signing VCs, named as ``did:key`` identifiers.

An agency signs its VCs with an Ed25519 key it has registered on the ledger (``addIssuerKey``, with a
validity window); the registry operator signs the status lists with its own. A key is named by its
``did:key`` (``did:key:z6Mk…``): the identifier *is* the public key, so a verifier needs no resolver to
get the key, and then asks the ledger whether that key belongs to the agency the credential names. The
ledger stores the raw 32-byte public key (`SigningKey.public_key_hex`).

Key files are PKCS#8 PEM (``openssl genpkey -algorithm ed25519``), optionally encrypted.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from credreg.errors import KeystoreError, MalformedDocument

__all__ = [
    "SigningKey",
    "base58btc_decode",
    "base58btc_encode",
    "did_key",
    "generate_key",
    "load_signing_key",
    "public_key_from_did",
    "verify_ed25519",
]

_ALPHABET: Final = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX: Final = {c: i for i, c in enumerate(_ALPHABET)}
# The multicodec prefix of an Ed25519 public key (ed25519-pub, 0xed as an unsigned varint).
_ED25519_PUB: Final = b"\xed\x01"
_DID_KEY: Final = re.compile(r"did:key:(z6Mk[1-9A-HJ-NP-Za-km-z]+)\Z")


def base58btc_encode(data: bytes) -> str:
    """Bitcoin's base58 alphabet, leading zero bytes as ``1``."""
    number = int.from_bytes(data, "big")
    out = []
    while number:
        number, digit = divmod(number, 58)
        out.append(_ALPHABET[digit])
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + "".join(reversed(out))


def base58btc_decode(text: str) -> bytes:
    """The bytes `text` encodes; `ValueError` on a character outside the alphabet."""
    number = 0
    for char in text:
        digit = _INDEX.get(char)
        if digit is None:
            raise ValueError(f"{char!r} is not a base58btc character")
        number = number * 58 + digit
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body


def did_key(public_key: bytes) -> str:
    """The ``did:key`` of a raw 32-byte Ed25519 public key."""
    if len(public_key) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return "did:key:z" + base58btc_encode(_ED25519_PUB + public_key)


def public_key_from_did(reference: str) -> bytes:
    """The raw Ed25519 public key named by a ``did:key`` or its ``did:key:z…#z…`` verification method.

    Raises `MalformedDocument` for anything else, including a fragment that is not the key itself.
    """
    did, _, fragment = reference.partition("#")
    match = _DID_KEY.match(did)
    if match is None:
        raise MalformedDocument("verificationMethod", f"{reference!r} is not an Ed25519 did:key")
    if fragment and fragment != match.group(1):
        raise MalformedDocument("verificationMethod", f"{reference!r}: the fragment is not the key")
    raw = base58btc_decode(match.group(1)[1:])
    if len(raw) != 34 or not raw.startswith(_ED25519_PUB):
        raise MalformedDocument("verificationMethod", f"{reference!r} is not an Ed25519 did:key")
    return raw[2:]


def verify_ed25519(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """Whether `signature` is `public_key`'s Ed25519 signature of `message`."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True)
class SigningKey:
    """An Ed25519 private key with the names a VC uses for it."""

    private: Ed25519PrivateKey = field(repr=False)

    @property
    def public_key(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @property
    def public_key_hex(self) -> str:
        """The public key as the ledger's bytes32 (0x and 64 hex digits)."""
        return "0x" + self.public_key.hex()

    @property
    def did(self) -> str:
        return did_key(self.public_key)

    @property
    def verification_method(self) -> str:
        """``did:key:z6Mk…#z6Mk…``: the key's verification method in its own DID document."""
        return f"{self.did}#{self.did.removeprefix('did:key:')}"

    def sign(self, message: bytes) -> bytes:
        return self.private.sign(message)


def generate_key() -> SigningKey:
    """A fresh random key (for tests and first-time setup)."""
    return SigningKey(Ed25519PrivateKey.generate())


def load_signing_key(path: str | os.PathLike[str], password: bytes | None = None) -> SigningKey:
    """Read a PKCS#8 PEM Ed25519 private key; `KeystoreError` says what is wrong with the file."""
    try:
        pem = Path(path).read_bytes()
    except OSError as error:
        raise KeystoreError(
            f"cannot read the key file {os.fspath(path)}: {error.strerror or error}"
        ) from None
    try:
        key = serialization.load_pem_private_key(pem, password=password)
    except TypeError:
        raise KeystoreError(f"{os.fspath(path)} is encrypted: a password is needed") from None
    except ValueError:
        raise KeystoreError(
            f"{os.fspath(path)} is not a PEM private key (or the password is wrong)"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeystoreError(f"{os.fspath(path)} holds a {type(key).__name__}, not an Ed25519 key")
    return SigningKey(key)
