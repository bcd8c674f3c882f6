"""A credreg certificate as an SD-JWT VC (IETF SD-JWT, RFC 9901, and SD-JWT-based VCs), EdDSA-signed.

The claims mirror the certificate's OpenAttestation data (the same field names, so a holder hides
``recipient.idNumber`` in either format), without the renderer template, plus::

    iss      the agency's issuer key as did:key (the JWS header's ``kid`` is its verification method)
    vct      urn:credreg:vct:<TechnicalGradeCredential | SkillLevelCredential | CompetitionAwardCredential>
    iat      when the SD-JWT was signed; nbf / exp: the certificate's validity, as in the VC
    ledger   {"merkleRoot", "targetHash", "merkleProof"}: the record to look up on the ledger
    credentialStatus   the same two BitstringStatusListEntry values as the VC

Exactly the fields a holder may hide in the OpenAttestation document (`hideable_fields`) are selectively
disclosable, each as its own disclosure; the fields verification needs are plain claims. `present`
drops the disclosures of the fields a holder hides; `verify_sd_jwt` checks the signature and every
disclosure and returns the claims with the disclosed values in place. There is no key binding: credreg
holders have no keys, so a presentation proves what the agency issued, not who presents it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from credreg.documents.layout import binding_from_document, certificate_from_document, hideable_fields
from credreg.documents.model import CERTIFICATE_KINDS, CertificateKind, expiry_timestamp
from credreg.documents.wrap import WrappedDocument, document_data
from credreg.errors import DisclosureError, MalformedDocument
from credreg.hashes import hash32
from credreg.vc.export import CREDENTIAL_TYPES, day_start
from credreg.vc.keys import SigningKey, public_key_from_did, verify_ed25519
from credreg.vc.statuslist import status_entries

__all__ = ["SD_JWT_TYPE", "VCT", "SdJwtCheck", "issue_sd_jwt", "present", "verify_sd_jwt"]

SD_JWT_TYPE: Final = "dc+sd-jwt"
VCT: Final[Mapping[CertificateKind, str]] = {k: f"urn:credreg:vct:{t}" for k, t in CREDENTIAL_TYPES.items()}
_KIND_OF_VCT: Final = {v: k for k, v in VCT.items()}
_RESERVED: Final = frozenset({"_sd", "...", "iss", "vct", "iat", "nbf", "exp", "cnf", "status", "_sd_alg"})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str, field: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError:
        raise MalformedDocument(field, "not base64url") from None


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def _digest(disclosure: str) -> str:
    return _b64(hashlib.sha256(disclosure.encode("ascii")).digest())


def issue_sd_jwt(
    document: WrappedDocument, key: SigningKey, *, status_base_url: str, position: int, issued_at: int
) -> str:
    """The SD-JWT VC of a fully visible credreg `document`, with every disclosure (``jwt~d1~…~dn~``)."""
    certificate = certificate_from_document(document)
    binding = binding_from_document(document)
    data = {k: v for k, v in document_data(document).items() if k != "$template"}
    disclosures: list[str] = []
    for path in hideable_fields(certificate.kind):
        *parents, name = path.split(".")
        parent = data
        for step in parents:
            parent = parent[step]
        disclosure = _b64(_json([_b64(secrets.token_bytes(16)), name, parent.pop(name)]))
        parent.setdefault("_sd", []).append(_digest(disclosure))
        disclosures.append(disclosure)
    _sort_digests(data)
    payload: dict[str, Any] = {
        "iss": key.did,
        "vct": VCT[certificate.kind],
        "iat": issued_at,
        "nbf": day_start(certificate.issue_date),
    }
    if certificate.valid_until is not None:
        payload["exp"] = expiry_timestamp(certificate.valid_until)
    payload.update(data)
    payload["ledger"] = {
        "merkleRoot": hash32(binding.merkle_root),
        "targetHash": hash32(binding.target_hash),
        "merkleProof": [hash32(p) for p in binding.proof],
    }
    payload["credentialStatus"] = status_entries(status_base_url, position)
    payload["_sd_alg"] = "sha-256"
    header = {"alg": "EdDSA", "typ": SD_JWT_TYPE, "kid": key.verification_method}
    signing_input = _b64(_json(header)) + "." + _b64(_json(payload))
    jwt = signing_input + "." + _b64(key.sign(signing_input.encode("ascii")))
    return "~".join([jwt, *disclosures]) + "~"


def _sort_digests(node: Any) -> None:
    # Digests in sorted order reveal nothing about the order of the claims they stand for.
    if isinstance(node, dict):
        if "_sd" in node:
            node["_sd"].sort()
        for value in node.values():
            _sort_digests(value)


@dataclass(frozen=True)
class SdJwtCheck:
    """A verified SD-JWT: its claims with disclosed values in place, and what was withheld."""

    claims: dict[str, Any]
    kind: CertificateKind
    public_key: bytes
    hidden: tuple[str, ...]


def _split(sd_jwt: str) -> tuple[str, list[str]]:
    if not isinstance(sd_jwt, str) or "~" not in sd_jwt:
        raise MalformedDocument("(sd-jwt)", "expected an SD-JWT: <jwt>~<disclosure>~…~")
    jwt, *rest = sd_jwt.strip().split("~")
    if rest[-1] != "":
        raise MalformedDocument("(sd-jwt)", "a key binding JWT is not expected; the SD-JWT must end with ~")
    return jwt, rest[:-1]


def _decode_jwt(jwt: str) -> tuple[dict[str, Any], dict[str, Any], str, bytes]:
    parts = jwt.split(".")
    if len(parts) != 3:
        raise MalformedDocument("(jwt)", "expected header.payload.signature")
    try:
        header = json.loads(_unb64(parts[0], "(jwt header)"))
        payload = json.loads(_unb64(parts[1], "(jwt payload)"))
    except (ValueError, UnicodeDecodeError):
        raise MalformedDocument("(jwt)", "header or payload is not JSON") from None
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise MalformedDocument("(jwt)", "header and payload must be JSON objects")
    return header, payload, parts[0] + "." + parts[1], _unb64(parts[2], "(jwt signature)")


def _paths(node: Any, prefix: str, out: dict[str, str]) -> None:
    if isinstance(node, dict):
        for digest in node.get("_sd", []):
            out[digest] = prefix
        for name, value in node.items():
            if name != "_sd":
                _paths(value, f"{prefix}{name}.", out)


def present(sd_jwt: str, hide: Iterable[str]) -> str:
    """The SD-JWT without the disclosures of the fields in `hide` (dotted paths, as `hideable_fields`)."""
    jwt, disclosures = _split(sd_jwt)
    _, payload, _, _ = _decode_jwt(jwt)
    kind = _KIND_OF_VCT.get(payload.get("vct", ""))
    if kind is None:
        raise MalformedDocument("vct", f"not a credreg SD-JWT VC type: {payload.get('vct')!r}")
    allowed = hideable_fields(kind)
    hidden = set()
    for field in dict.fromkeys(hide):
        matching = {f for f in allowed if f == field or f.startswith(field + ".")}
        if not matching:
            raise DisclosureError(field, f"not a field a holder may hide in a {kind} credential")
        hidden |= matching
    parents: dict[str, str] = {}
    _paths(payload, "", parents)
    kept = []
    for disclosure in disclosures:
        name = _disclosed(disclosure)[1]
        if parents.get(_digest(disclosure), "") + name not in hidden:
            kept.append(disclosure)
    return "~".join([jwt, *kept]) + "~"


def _disclosed(disclosure: str) -> list[Any]:
    try:
        value = json.loads(_unb64(disclosure, "(disclosure)"))
    except (ValueError, UnicodeDecodeError):
        raise MalformedDocument("(disclosure)", "not base64url JSON") from None
    if not isinstance(value, list) or len(value) != 3 or not all(isinstance(v, str) for v in value[:2]):
        raise MalformedDocument("(disclosure)", "expected [salt, claim name, value]")
    if value[1] in _RESERVED:
        raise MalformedDocument("(disclosure)", f"claim name {value[1]!r} may not be disclosed")
    return value


def verify_sd_jwt(sd_jwt: str) -> SdJwtCheck:
    """Check the issuer's EdDSA signature and every disclosure; `MalformedDocument` says what fails.

    The signing key comes from the header's ``kid`` (a did:key, which must match ``iss``); whether the
    ledger binds that key to the agency is the caller's next question (`credreg.vc.verify`).
    """
    jwt, disclosures = _split(sd_jwt)
    header, payload, signing_input, signature = _decode_jwt(jwt)
    if header.get("alg") != "EdDSA" or header.get("typ") != SD_JWT_TYPE:
        raise MalformedDocument("(jwt header)", f"expected alg EdDSA and typ {SD_JWT_TYPE}, got {header!r}")
    kid = header.get("kid")
    if not isinstance(kid, str) or kid.partition("#")[0] != payload.get("iss"):
        raise MalformedDocument("(jwt header).kid", "must be the verification method of the iss did:key")
    public_key = public_key_from_did(kid)
    if not verify_ed25519(public_key, signature, signing_input.encode("ascii")):
        raise MalformedDocument("(jwt signature)", "the signature does not match the issuer's key")
    if payload.get("_sd_alg") != "sha-256":
        raise MalformedDocument("_sd_alg", "expected sha-256")
    kind = _KIND_OF_VCT.get(payload.get("vct", ""))
    if kind not in CERTIFICATE_KINDS or kind is None:
        raise MalformedDocument("vct", f"not a credreg SD-JWT VC type: {payload.get('vct')!r}")
    by_digest: dict[str, list[Any]] = {}
    for disclosure in disclosures:
        digest = _digest(disclosure)
        if digest in by_digest:
            raise MalformedDocument("(disclosure)", "the same disclosure appears twice")
        by_digest[digest] = _disclosed(disclosure)
    claims = _apply(payload, by_digest)
    if by_digest:
        raise MalformedDocument(
            "(disclosure)", f"{len(by_digest)} disclosure(s) not referenced by the SD-JWT"
        )
    hidden = tuple(f for f in hideable_fields(kind) if not _has(claims, f))
    return SdJwtCheck(claims, kind, public_key, hidden)


def _apply(node: Any, disclosures: dict[str, list[Any]]) -> Any:
    if isinstance(node, list):
        return [_apply(item, disclosures) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: _apply(v, disclosures) for k, v in node.items() if k not in ("_sd", "_sd_alg")}
    digests = node.get("_sd", [])
    if not isinstance(digests, list):
        raise MalformedDocument("_sd", "not a list")
    for digest in digests:
        found = disclosures.pop(digest, None) if isinstance(digest, str) else None
        if found is None:
            continue  # withheld by the holder (or a decoy)
        _, name, value = found
        if name in out:
            raise MalformedDocument(name, "disclosed twice or also a plain claim")
        out[name] = _apply(value, disclosures)
    return out


def _has(claims: Mapping[str, Any], path: str) -> bool:
    node: Any = claims
    for step in path.split("."):
        if not isinstance(node, Mapping) or step not in node:
            return False
        node = node[step]
    return True
