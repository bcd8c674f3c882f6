"""Where a certificate's fields sit in an OpenAttestation v2 document's `data`.

OpenAttestation's own fields are used where they mean the same thing; everything else lives under one
``credreg`` object. After unsalting, a skill level certificate reads::

    {
      "$template": {"name": "credreg/skill_level", "type": "EMBEDDED_RENDERER", "url": <renderer, optional>},
      "id": "<certificate number>",
      "issuers": [{"name": "<agency name>", "documentStore": "<the agency's document store>",
                   "identityProof": {"type": "DNS-TXT", "location": "<domain>"}}],
      "recipient": {"name": "<holder>", "idType": "resident_id", "idNumber": "<number>"},
      "credreg": {
        "version": 2, "kind": "skill_level", "chainId": 31337, "registry": "0x…", "agencyId": 1,
        "scopeId": "0x…",
        "occupation": {"code": "6-31-01-03", "title": "…"}, "level": 3,
        "issuedOn": "2025-06-30", "validUntil": "2028-06-30" or null,
        "assessment": {"date": "…", "sessionId": "…", "location": "…" or null, "score": 87 or "…" or null}
      }
    }

A technical grade certificate adds ``credreg.gradeTitle``; a competition award has
``credreg.competition`` (``name``, ``date``, ``award``, ``rank`` or null) instead of an assessment.
Optional fields are always present (as null when empty), so the set of fields of each kind is fixed and
`hidden_fields` can tell exactly which ones a holder has hidden.

OpenAttestation's ``documentStore`` is the issuing agency's own store (`credreg.documents.store`: an
address fixed by the registry and the agency id), so OpenAttestation's verifier checks ``isIssued`` and
``isRevoked`` in that agency's namespace only: a document naming agency A's store verifies only if A recorded
it. ``credreg.registry`` names the registry itself. The DNS-TXT ``location`` is the domain whose TXT record
vouches for the store (given at wrapping time; it is not part of the certificate). Layout version 1 named
the registry as the store; it belongs to contract version 1 and is refused with a message saying so.

`PROTECTED_FIELDS` cannot be hidden: verification needs them to find the on-chain record (chain,
registry, agency, scope, validity) and OpenAttestation's verifier needs ``issuers`` and ``$template``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Container, Iterator, Sequence
from datetime import date
from typing import Any, Final, NamedTuple

from credreg.documents.canonical import flatten
from credreg.documents.model import (
    CERTIFICATE_KINDS,
    AnyCertificate,
    CertificateKind,
    CompetitionAwardCertificate,
    TechnicalGradeCertificate,
    parse_certificate,
    scope_id,
)
from credreg.documents.store import document_store_address
from credreg.documents.wrap import WrappedDocument, _collector_paused, document_data, wrap_documents
from credreg.errors import DocumentError, MalformedDocument

__all__ = [
    "LAYOUT_VERSION",
    "PROTECTED_FIELDS",
    "AnyCertificate",
    "BatchKey",
    "DocumentBinding",
    "batch_key",
    "binding_from_document",
    "certificate_from_document",
    "certificate_to_data",
    "hidden_among",
    "hidden_fields",
    "hideable_fields",
    "wrap_certificates",
]

LAYOUT_VERSION: Final = 2

PROTECTED_FIELDS: Final = (
    "$template",
    "issuers",
    "credreg.version",
    "credreg.kind",
    "credreg.chainId",
    "credreg.registry",
    "credreg.agencyId",
    "credreg.scopeId",
    "credreg.occupation.code",
    "credreg.level",
    "credreg.validUntil",
)

_COMMON: Final = (
    "id",
    "recipient.name",
    "recipient.idType",
    "recipient.idNumber",
    "credreg.occupation.title",
    "credreg.issuedOn",
)
_ASSESSMENT: Final = (
    "credreg.assessment.date",
    "credreg.assessment.sessionId",
    "credreg.assessment.location",
    "credreg.assessment.score",
)
_HIDEABLE: Final[dict[str, tuple[str, ...]]] = {
    "technical_grade": (*_COMMON, "credreg.gradeTitle", *_ASSESSMENT),
    "skill_level": (*_COMMON, *_ASSESSMENT),
    "competition_award": (
        *_COMMON,
        "credreg.competition.name",
        "credreg.competition.date",
        "credreg.competition.award",
        "credreg.competition.rank",
    ),
}
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_DOMAIN = re.compile(
    r"(?=.{1,253}\Z)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\Z"
)


def hideable_fields(kind: CertificateKind) -> tuple[str, ...]:
    """The leaf fields a holder may hide in a certificate of `kind`."""
    return _HIDEABLE[kind]


def certificate_to_data(
    certificate: AnyCertificate, *, identity_location: str, renderer_url: str | None = None
) -> dict[str, Any]:
    """The unsalted OpenAttestation `data` for `certificate` (see the module docstring for the layout)."""
    if not _DOMAIN.match(identity_location):
        raise DocumentError(f"identity location {identity_location!r} is not a domain name")
    template: dict[str, Any] = {"name": f"credreg/{certificate.kind}", "type": "EMBEDDED_RENDERER"}
    if renderer_url is not None:
        template["url"] = renderer_url
    holder = certificate.holder
    credreg: dict[str, Any] = {
        "version": LAYOUT_VERSION,
        "kind": certificate.kind,
        "chainId": certificate.chain_id,
        "registry": certificate.registry,
        "agencyId": certificate.agency.id,
        "scopeId": certificate.scope_id,
        "occupation": {"code": certificate.occupation_code, "title": certificate.occupation_title},
        "level": certificate.level,
        "issuedOn": certificate.issue_date.isoformat(),
        "validUntil": certificate.valid_until.isoformat() if certificate.valid_until else None,
    }
    if isinstance(certificate, CompetitionAwardCertificate):
        c = certificate.competition
        credreg["competition"] = {
            "name": c.name,
            "date": c.date.isoformat(),
            "award": c.award,
            "rank": c.rank,
        }
    else:
        if isinstance(certificate, TechnicalGradeCertificate):
            credreg["gradeTitle"] = certificate.grade_title
        a = certificate.assessment
        credreg["assessment"] = {
            "date": a.date.isoformat(),
            "sessionId": a.session_id,
            "location": a.location,
            "score": a.score,
        }
    return {
        "$template": template,
        "id": certificate.certificate_number,
        "issuers": [
            {
                "name": certificate.agency.name,
                "documentStore": document_store_address(certificate.registry, certificate.agency.id),
                "identityProof": {"type": "DNS-TXT", "location": identity_location},
            }
        ],
        "recipient": {"name": holder.name, "idType": holder.id_type.value, "idNumber": holder.id_number},
        "credreg": credreg,
    }


class BatchKey(NamedTuple):
    """What every certificate under one merkle root shares: one ``issue`` call records them all."""

    chain_id: int
    registry: str
    agency_id: int
    scope_id: str
    valid_until: date | None


def batch_key(certificate: AnyCertificate) -> BatchKey:
    """The batch a certificate can be issued in."""
    return BatchKey(
        certificate.chain_id,
        certificate.registry,
        certificate.agency.id,
        certificate.scope_id,
        certificate.valid_until,
    )


def wrap_certificates(
    certificates: Sequence[AnyCertificate],
    *,
    identity_location: str,
    renderer_url: str | None = None,
    salts: Iterator[str] | None = None,
) -> list[WrappedDocument]:
    """Wrap one batch of certificates under one merkle root, in the order given.

    All must share a `BatchKey` (the chain records one scope and one validity per root); group a mixed
    list with `batch_key` first. Raises `DocumentError` naming the first certificate that does not fit.
    """
    if not certificates:
        raise DocumentError("a batch needs at least one certificate")
    key = batch_key(certificates[0])
    seen: dict[str, int] = {}
    for index, certificate in enumerate(certificates):
        other = batch_key(certificate)
        if other != key:
            differs = ", ".join(
                f"{name} {mine!r} vs {theirs!r}"
                for name, mine, theirs in zip(BatchKey._fields, other, key, strict=True)
                if mine != theirs
            )
            raise DocumentError(
                f"certificate {index} ({certificate.certificate_number}) cannot share a batch with "
                f"certificate 0: {differs}"
            )
        first = seen.setdefault(certificate.certificate_number, index)
        if first != index:
            raise DocumentError(
                f"certificates {first} and {index} have the same number {certificate.certificate_number!r}"
            )
    with _collector_paused():
        datas = [
            certificate_to_data(c, identity_location=identity_location, renderer_url=renderer_url)
            for c in certificates
        ]
        return wrap_documents(datas, salts=salts)


class DocumentBinding(NamedTuple):
    """The fields that tie a credreg document to its on-chain record (never hidden)."""

    kind: CertificateKind
    chain_id: int
    registry: str
    document_store: str
    identity_location: str
    agency_id: int
    agency_name: str
    scope_id: str
    occupation_code: str
    level: int
    valid_until: date | None
    target_hash: str
    merkle_root: str
    proof: tuple[str, ...]


def binding_from_document(document: WrappedDocument, data: dict[str, Any] | None = None) -> DocumentBinding:
    """Read the binding fields of a credreg document; `MalformedDocument` names any that is wrong.
    `data`: `document_data(document)`, when the caller has unsalted it already."""
    if data is None:
        data = document_data(document)
    # The documents of a batch share every binding field but the last three (target hash, root, proof):
    # once one has been checked, the others with the very same values (and types) need not be, which took
    # a verification's binding from 8 µs to 3 µs a document.
    key = _binding_key(data)
    head = _BINDINGS.get(key) if key is not None else None
    if head is None:
        binding = _read_binding(document, data)
        if key is not None and len(_BINDINGS) < _BINDINGS_MAX:
            _BINDINGS[key] = tuple(binding[:-3])
        return binding
    signature = document["signature"]
    return DocumentBinding._make(
        (*head, signature["targetHash"], signature["merkleRoot"], tuple(signature["proof"]))
    )


_BINDINGS: dict[tuple[Any, ...], tuple[Any, ...]] = {}
_BINDINGS_MAX = 4096
# The types of `_binding_key`'s values, with and without an expiry.
_KEY_TYPES = (
    (str, str, str, int, str, str, int, str, int, str, str, int),
    (str, str, str, int, str, str, int, str, int, str, type(None), int),
)


def _binding_key(data: dict[str, Any]) -> tuple[Any, ...] | None:
    """Every value `_read_binding` reads from `data`, when each has the type it must have; else None."""
    try:
        issuers, credreg = data["issuers"], data["credreg"]
        if type(issuers) is not list or len(issuers) != 1 or type(credreg) is not dict:
            return None
        issuer = issuers[0]
        if type(issuer) is not dict:
            return None
        proof, occupation = issuer["identityProof"], credreg["occupation"]
        if type(proof) is not dict or type(occupation) is not dict:
            return None
        key = (
            issuer["documentStore"],
            proof["location"],
            issuer["name"],
            credreg["version"],
            credreg["kind"],
            credreg["registry"],
            credreg["agencyId"],
            occupation["code"],
            credreg["level"],
            credreg["scopeId"],
            credreg["validUntil"],
            credreg["chainId"],
        )
    except (KeyError, TypeError):
        return None
    return key if tuple(map(type, key)) in _KEY_TYPES else None


def _read_binding(document: WrappedDocument, data: dict[str, Any]) -> DocumentBinding:
    issuers = data.get("issuers")
    if not isinstance(issuers, list) or len(issuers) != 1 or not isinstance(issuers[0], dict):
        raise MalformedDocument("issuers", "a credreg document has exactly one issuer")
    issuer = issuers[0]
    store = _get(issuer, "documentStore", str, "issuers.0.")
    if not _ADDRESS.fullmatch(store):
        raise MalformedDocument("issuers.0.documentStore", f"{store!r} is not an address")
    proof = _get(issuer, "identityProof", dict, "issuers.0.")
    location = _get(proof, "location", str, "issuers.0.identityProof.")
    credreg = _credreg(data)
    registry = _get(credreg, "registry", str, "credreg.")
    if not _ADDRESS.fullmatch(registry):
        raise MalformedDocument("credreg.registry", f"{registry!r} is not an address")
    agency_id = _get(credreg, "agencyId", int, "credreg.")
    if not 0 < agency_id < 2**32 or store.lower() != document_store_address(registry, agency_id).lower():
        raise MalformedDocument(
            "issuers.0.documentStore",
            f"{store} is not the document store of agency {agency_id} in registry {registry}",
        )
    kind = credreg["kind"]
    occupation = _get(credreg, "occupation", dict, "credreg.")
    code = _get(occupation, "code", str, "credreg.occupation.")
    level = _get(credreg, "level", int, "credreg.")
    claimed = _get(credreg, "scopeId", str, "credreg.")
    if not 0 <= level < 256 or claimed.lower() != scope_id(code, level):
        raise MalformedDocument("credreg.scopeId", f"{claimed} is not the scope of ({code!r}, level {level})")
    valid_until_text = credreg.get("validUntil", ...)
    if valid_until_text is ...:
        raise MalformedDocument("credreg.validUntil", "missing (it cannot be hidden)")
    valid_until = None if valid_until_text is None else _date(valid_until_text, "credreg.validUntil")
    signature = document["signature"]
    return DocumentBinding(
        kind=kind,
        chain_id=_get(credreg, "chainId", int, "credreg."),
        registry=registry,
        document_store=store,
        identity_location=location,
        agency_id=agency_id,
        agency_name=_get(issuer, "name", str, "issuers.0."),
        scope_id=claimed.lower(),
        occupation_code=code,
        level=level,
        valid_until=valid_until,
        target_hash=signature["targetHash"],
        merkle_root=signature["merkleRoot"],
        proof=tuple(signature["proof"]),
    )


def hidden_fields(
    document: WrappedDocument, *, kind: str | None = None, flat: Container[str] | None = None
) -> tuple[str, ...]:
    """The fields of a credreg document that its holder has hidden, in layout order. A caller that has
    read the document's `kind` (its binding's) or its flattened field paths (`flatten`'s keys) may pass
    them, to skip doing it again."""
    if kind is None:
        kind = _credreg(document_data(document))["kind"]
    present = flatten(document["data"]) if flat is None else flat
    return tuple(path for path in _HIDEABLE[kind] if path not in present)


@functools.lru_cache(maxsize=256)
def hidden_among(kind: str, paths: tuple[str, ...]) -> tuple[str, ...]:
    """`hidden_fields` of a document of `kind` whose flattened field paths are `paths`. Remembered: the
    documents of a batch share their paths, and the lookup is a tenth of the 9 µs of working it out."""
    present = set(paths)
    return tuple(path for path in _HIDEABLE[kind] if path not in present)


def certificate_from_document(document: WrappedDocument) -> AnyCertificate:
    """The certificate a fully visible credreg document carries.

    Raises `DocumentError` listing the hidden fields if any are hidden, `MalformedDocument` if the data
    does not make a valid certificate.
    """
    hidden = hidden_fields(document)
    if hidden:
        raise DocumentError(f"the document has hidden fields, so no full certificate: {', '.join(hidden)}")
    binding = binding_from_document(document)
    data = document_data(document)
    credreg = data["credreg"]
    recipient = data["recipient"]
    raw: dict[str, Any] = {
        "kind": binding.kind,
        "certificate_number": data["id"],
        "holder": {
            "name": recipient["name"],
            "id_type": recipient["idType"],
            "id_number": recipient["idNumber"],
        },
        "occupation_code": binding.occupation_code,
        "occupation_title": credreg["occupation"]["title"],
        "level": binding.level,
        "issue_date": credreg["issuedOn"],
        "valid_until": credreg["validUntil"],
        "agency": {"id": binding.agency_id, "name": binding.agency_name},
        "scope_id": binding.scope_id,
        "chain_id": binding.chain_id,
        "registry": binding.registry,
    }
    if binding.kind == "competition_award":
        c = credreg["competition"]
        raw["competition"] = {"name": c["name"], "date": c["date"], "award": c["award"], "rank": c["rank"]}
    else:
        a = credreg["assessment"]
        raw["assessment"] = {
            "date": a["date"],
            "session_id": a["sessionId"],
            "location": a["location"],
            "score": a["score"],
        }
        if binding.kind == "technical_grade":
            raw["grade_title"] = credreg["gradeTitle"]
    try:
        return parse_certificate(raw)
    except DocumentError as error:
        raise MalformedDocument("data", str(error)) from None


def _credreg(data: dict[str, Any]) -> dict[str, Any]:
    credreg = data.get("credreg")
    if not isinstance(credreg, dict):
        raise MalformedDocument("credreg", "missing: not a credreg document")
    version = credreg.get("version")
    if version != LAYOUT_VERSION or type(version) is not int:
        raise MalformedDocument(
            "credreg.version",
            f"layout version {version!r} is not {LAYOUT_VERSION}"
            + (
                " (it belongs to contract version 1, whose ledgers this credreg does not read)"
                if version == 1
                else ""
            ),
        )
    if credreg.get("kind") not in CERTIFICATE_KINDS:
        raise MalformedDocument("credreg.kind", f"unknown kind {credreg.get('kind')!r}")
    return credreg


def _get(container: dict[str, Any], key: str, kind: type[Any], prefix: str) -> Any:
    value = container.get(key)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise MalformedDocument(prefix + key, f"expected {kind.__name__}, got {value!r}")
    return value


def _date(value: object, field: str) -> date:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise MalformedDocument(field, f"expected a date as YYYY-MM-DD, got {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise MalformedDocument(field, str(error)) from None
