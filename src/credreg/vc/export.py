"""A credreg certificate as a W3C Verifiable Credential 2.0, and back.

`export_vc` turns a fully visible credreg document (OpenAttestation v2, as issued) into a VC 2.0 signed
with an ``eddsa-rdfc-2022`` Data Integrity proof by the agency's Ed25519 issuer key. Shape (docs/interop.md
has the vocabulary)::

    {
      "@context": ["https://www.w3.org/ns/credentials/v2", "urn:credreg:context:v1"],
      "id": "urn:credreg:<chain id>:<registry>:<target hash>",
      "type": ["VerifiableCredential", "OpenBadgeCredential", "SkillLevelCredential"],
      "issuer": {"id": "did:key:z6Mk…", "name": "<agency>"},
      "name": "<achievement name>", "validFrom": "…Z", "validUntil": "…Z" (if it expires),
      "credentialSubject": {
        "type": ["AchievementSubject"], "name": "<holder>",
        "identifier": [{"type": "IdentityObject", "identityType": "nationalIdentityNumber",
                        "hashed": false, "identityHash": "<id number>"}],
        "certificateNumber": "…", "issuedOn": "2025-06-30", "validThrough": "2028-06-30",
        "achievement": {"id": "urn:credreg:scope:<scope id>", "type": ["Achievement"],
                        "achievementType": "Certificate", "name": "…", "description": "…",
                        "criteria": {"narrative": "…"}, "occupationCode": "…", "occupationTitle": "…",
                        "level": 3, "scopeId": "0x…", "gradeTitle": "…" (technical grade)},
        "assessment": {"date", "sessionId", "location", "score"} | "competition": {"name", "date", "award", "rank"}
      },
      "evidence": [{"type": ["LedgerAnchor"], "chainId", "registry", "agencyId", "merkleRoot", "targetHash",
                    "merkleProof": [...]}],
      "credentialStatus": [revocation entry, suspension entry],
      "proof": {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", …}
    }

Empty optional fields are left out (JSON-LD drops nulls, so they could not be signed anyway).
`read_vc` reads one back into the certificate and its ledger anchor, without checking the proof.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, Final

from credreg.documents.layout import binding_from_document, certificate_from_document
from credreg.documents.model import (
    CHINA_STANDARD_TIME,
    SKILL_LEVEL_TITLES,
    AnyCertificate,
    CertificateKind,
    CompetitionAwardCertificate,
    IdDocumentType,
    TechnicalGradeCertificate,
    expiry_timestamp,
    parse_certificate,
)
from credreg.documents.wrap import WrappedDocument
from credreg.errors import DocumentError, MalformedDocument
from credreg.hashes import hash32
from credreg.vc.jsonld import CREDENTIALS_V2, CREDREG_CONTEXT
from credreg.vc.keys import SigningKey
from credreg.vc.proof import add_proof, xsd_datetime
from credreg.vc.statuslist import LIST_SIZE, STATUS_PURPOSES, status_entries

__all__ = [
    "ACHIEVEMENT_TYPES",
    "CREDENTIAL_TYPES",
    "LedgerAnchor",
    "StatusReference",
    "VcContents",
    "day_start",
    "export_vc",
    "read_vc",
    "unsigned_vc",
]

CREDENTIAL_TYPES: Final[Mapping[CertificateKind, str]] = {
    "technical_grade": "TechnicalGradeCredential",
    "skill_level": "SkillLevelCredential",
    "competition_award": "CompetitionAwardCredential",
}
"""The credreg type of each kind; every VC is also ``VerifiableCredential`` and ``OpenBadgeCredential``."""

ACHIEVEMENT_TYPES: Final[Mapping[CertificateKind, str]] = {
    "technical_grade": "Certification",
    "skill_level": "Certificate",
    "competition_award": "Award",
}
"""Open Badges 3.0 ``achievementType`` of each kind."""

_KINDS: Final = {v: k for k, v in CREDENTIAL_TYPES.items()}
_NATIONAL_ID: Final = "nationalIdentityNumber"


@dataclass(frozen=True)
class LedgerAnchor:
    """Where the credential's record is on the ledger; hashes as 0x-prefixed lowercase hex."""

    chain_id: int
    registry: str
    agency_id: int
    merkle_root: str
    target_hash: str
    proof: tuple[str, ...]


@dataclass(frozen=True)
class StatusReference:
    """One ``credentialStatus`` entry: which list, which entry."""

    purpose: str
    url: str
    index: int


@dataclass(frozen=True)
class VcContents:
    """What a VC says, read from its JSON (`read_vc`); nothing here is verified yet."""

    certificate: AnyCertificate
    anchor: LedgerAnchor
    issuer: str
    statuses: tuple[StatusReference, ...]


def day_start(day: date) -> int:
    """The first second of `day` in China Standard Time: when a certificate issued that day is valid from."""
    return int(datetime.combine(day, time(0), CHINA_STANDARD_TIME).timestamp())


def _achievement_name(certificate: AnyCertificate) -> str:
    if isinstance(certificate, CompetitionAwardCertificate):
        return f"{certificate.competition.name} {certificate.competition.award}（{certificate.occupation_title}）"
    if isinstance(certificate, TechnicalGradeCertificate):
        return f"{certificate.occupation_title}（{certificate.grade_title}）"
    return f"{certificate.occupation_title}（{SKILL_LEVEL_TITLES[certificate.level]}）"


_DESCRIPTIONS: Final[Mapping[CertificateKind, str]] = {
    "technical_grade": "Professional technical grade {level} in occupation {code}.",
    "skill_level": "Vocational skill level {level} (national five-level system) in occupation {code}.",
    "competition_award": "An award at a skills competition conferring level {level} in occupation {code}.",
}
_CRITERIA: Final[Mapping[CertificateKind, str]] = {
    "technical_grade": "Passed the grade assessment of an agency accredited for this occupation and grade.",
    "skill_level": "Passed the skill level assessment of an agency accredited for this occupation and level.",
    "competition_award": "Won the award at a competition run by an agency accredited for this scope.",
}


def unsigned_vc(
    document: WrappedDocument, *, issuer: str, status_base_url: str, position: int
) -> dict[str, Any]:
    """The VC for `document` before its proof: `issuer` is the signing key's ``did:key``.

    `position` is the certificate's status list position (`credreg.vc.statuslist.status_positions`).
    Raises `DocumentError` if the document has hidden fields: a VC carries the whole certificate.
    """
    certificate = certificate_from_document(document)
    binding = binding_from_document(document)
    holder = certificate.holder
    id_type = (
        _NATIONAL_ID if holder.id_type is IdDocumentType.RESIDENT_ID else f"ext:credreg:{holder.id_type}"
    )
    achievement: dict[str, Any] = {
        "id": f"urn:credreg:scope:{certificate.scope_id}",
        "type": ["Achievement"],
        "achievementType": ACHIEVEMENT_TYPES[certificate.kind],
        "name": _achievement_name(certificate),
        "description": _DESCRIPTIONS[certificate.kind].format(
            level=certificate.level, code=certificate.occupation_code
        ),
        "criteria": {"narrative": _CRITERIA[certificate.kind]},
        "occupationCode": certificate.occupation_code,
        "occupationTitle": certificate.occupation_title,
        "level": certificate.level,
        "scopeId": certificate.scope_id,
    }
    subject: dict[str, Any] = {
        "type": ["AchievementSubject"],
        "name": holder.name,
        "identifier": [
            {
                "type": "IdentityObject",
                "identityType": id_type,
                "hashed": False,
                "identityHash": holder.id_number,
            }
        ],
        "certificateNumber": certificate.certificate_number,
        "issuedOn": certificate.issue_date.isoformat(),
        "achievement": achievement,
    }
    if certificate.valid_until is not None:
        subject["validThrough"] = certificate.valid_until.isoformat()
    if isinstance(certificate, CompetitionAwardCertificate):
        c = certificate.competition
        subject["competition"] = _present(name=c.name, date=c.date.isoformat(), award=c.award, rank=c.rank)
    else:
        if isinstance(certificate, TechnicalGradeCertificate):
            achievement["gradeTitle"] = certificate.grade_title
        a = certificate.assessment
        subject["assessment"] = _present(
            date=a.date.isoformat(), sessionId=a.session_id, location=a.location, score=a.score
        )
    signature = document["signature"]
    credential: dict[str, Any] = {
        "@context": [CREDENTIALS_V2, CREDREG_CONTEXT],
        "id": f"urn:credreg:{certificate.chain_id}:{certificate.registry}:{hash32(signature['targetHash'])}",
        "type": ["VerifiableCredential", "OpenBadgeCredential", CREDENTIAL_TYPES[certificate.kind]],
        "issuer": {"id": issuer, "name": certificate.agency.name},
        "name": achievement["name"],
        "validFrom": xsd_datetime(day_start(certificate.issue_date)),
    }
    if certificate.valid_until is not None:
        credential["validUntil"] = xsd_datetime(expiry_timestamp(certificate.valid_until))
    credential["credentialSubject"] = subject
    credential["evidence"] = [
        {
            "type": ["LedgerAnchor"],
            "chainId": binding.chain_id,
            "registry": binding.registry,
            "agencyId": binding.agency_id,
            "merkleRoot": hash32(binding.merkle_root),
            "targetHash": hash32(binding.target_hash),
            "merkleProof": [hash32(p) for p in binding.proof],
        }
    ]
    credential["credentialStatus"] = status_entries(status_base_url, position)
    return credential


def export_vc(
    document: WrappedDocument,
    key: SigningKey,
    *,
    status_base_url: str,
    position: int,
    created: int | datetime,
) -> dict[str, Any]:
    """`document` as a VC 2.0 signed by the agency's issuer `key` at `created` (see the module docstring)."""
    credential = unsigned_vc(document, issuer=key.did, status_base_url=status_base_url, position=position)
    return add_proof(credential, key, created=created)


def _present(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


# --- reading ----------------------------------------------------------------------------------------


def _get(container: Mapping[str, Any], key: str, kind: type[Any] | tuple[type[Any], ...], where: str) -> Any:
    value = container.get(key)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise MalformedDocument(where + key, f"missing or of the wrong type: {value!r}")
    return value


def _types(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise MalformedDocument("type", f"expected a type or a list of types, got {value!r}")


def _date_of(stamp: str, field: str) -> datetime:
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        raise MalformedDocument(field, f"{stamp!r} is not a date and time") from None
    if moment.tzinfo is None:
        raise MalformedDocument(field, f"{stamp!r} has no time zone")
    return moment


def read_vc(credential: Mapping[str, Any]) -> VcContents:
    """The certificate, anchor and status entries of a credreg VC; `MalformedDocument` names what is wrong."""
    context = credential.get("@context")
    if context != [CREDENTIALS_V2, CREDREG_CONTEXT]:
        raise MalformedDocument(
            "@context", f"expected [{CREDENTIALS_V2!r}, {CREDREG_CONTEXT!r}], got {context!r}"
        )
    kinds = [_KINDS[t] for t in _types(credential.get("type")) if t in _KINDS]
    if "VerifiableCredential" not in _types(credential.get("type")) or len(kinds) != 1:
        raise MalformedDocument("type", "expected VerifiableCredential and one credreg credential type")
    kind = kinds[0]
    issuer = _get(credential, "issuer", dict, "")
    subject = _get(credential, "credentialSubject", dict, "")
    achievement = _get(subject, "achievement", dict, "credentialSubject.")
    identifiers = _get(subject, "identifier", list, "credentialSubject.")
    if len(identifiers) != 1 or not isinstance(identifiers[0], dict):
        raise MalformedDocument("credentialSubject.identifier", "expected one IdentityObject")
    identity = identifiers[0]
    id_type_text = _get(identity, "identityType", str, "credentialSubject.identifier.0.")
    id_type = "resident_id" if id_type_text == _NATIONAL_ID else id_type_text.removeprefix("ext:credreg:")
    evidence = _get(credential, "evidence", list, "")
    anchors = [e for e in evidence if isinstance(e, dict) and "LedgerAnchor" in _types(e.get("type"))]
    if len(anchors) != 1:
        raise MalformedDocument("evidence", "expected exactly one LedgerAnchor")
    raw_anchor = anchors[0]
    where = "evidence.LedgerAnchor."
    try:
        proof = tuple(hash32(p) for p in _get(raw_anchor, "merkleProof", list, where))
        anchor = LedgerAnchor(
            chain_id=_get(raw_anchor, "chainId", int, where),
            registry=_get(raw_anchor, "registry", str, where),
            agency_id=_get(raw_anchor, "agencyId", int, where),
            merkle_root=hash32(_get(raw_anchor, "merkleRoot", str, where)),
            target_hash=hash32(_get(raw_anchor, "targetHash", str, where)),
            proof=proof,
        )
    except DocumentError as error:
        if isinstance(error, MalformedDocument):
            raise
        raise MalformedDocument(where + "merkleProof", str(error)) from None
    raw: dict[str, Any] = {
        "kind": kind,
        "certificate_number": _get(subject, "certificateNumber", str, "credentialSubject."),
        "holder": {
            "name": _get(subject, "name", str, "credentialSubject."),
            "id_type": id_type,
            "id_number": _get(identity, "identityHash", str, "credentialSubject.identifier.0."),
        },
        "occupation_code": _get(achievement, "occupationCode", str, "achievement."),
        "occupation_title": _get(achievement, "occupationTitle", str, "achievement."),
        "level": _get(achievement, "level", int, "achievement."),
        "issue_date": _get(subject, "issuedOn", str, "credentialSubject."),
        "valid_until": subject.get("validThrough"),
        "agency": {"id": anchor.agency_id, "name": _get(issuer, "name", str, "issuer.")},
        "scope_id": _get(achievement, "scopeId", str, "achievement."),
        "chain_id": anchor.chain_id,
        "registry": anchor.registry,
    }
    if kind == "competition_award":
        c = _get(subject, "competition", dict, "credentialSubject.")
        raw["competition"] = {
            "name": c.get("name"),
            "date": c.get("date"),
            "award": c.get("award"),
            "rank": c.get("rank"),
        }
    else:
        a = _get(subject, "assessment", dict, "credentialSubject.")
        raw["assessment"] = {
            "date": a.get("date"),
            "session_id": a.get("sessionId"),
            "location": a.get("location"),
            "score": a.get("score"),
        }
        if kind == "technical_grade":
            raw["grade_title"] = achievement.get("gradeTitle")
    try:
        certificate = parse_certificate(raw)
    except DocumentError as error:
        raise MalformedDocument("credentialSubject", str(error)) from None
    _check_dates(credential, certificate)
    statuses = _statuses(credential.get("credentialStatus"))
    return VcContents(certificate, anchor, _get(issuer, "id", str, "issuer."), statuses)


def _check_dates(credential: Mapping[str, Any], certificate: AnyCertificate) -> None:
    # validFrom/validUntil are what generic verifiers read; they must say what the certificate says.
    valid_from = _date_of(_get(credential, "validFrom", str, ""), "validFrom")
    if int(valid_from.timestamp()) != day_start(certificate.issue_date):
        raise MalformedDocument("validFrom", "does not match credentialSubject.issuedOn")
    until = credential.get("validUntil")
    expected = expiry_timestamp(certificate.valid_until)
    if (until is None) != (expected == 0) or (
        until is not None and int(_date_of(until, "validUntil").timestamp()) != expected
    ):
        raise MalformedDocument("validUntil", "does not match credentialSubject.validThrough")


def _statuses(value: object) -> tuple[StatusReference, ...]:
    if not isinstance(value, list) or len(value) != len(STATUS_PURPOSES):
        raise MalformedDocument("credentialStatus", "expected a revocation and a suspension entry")
    found: dict[str, StatusReference] = {}
    for entry in value:
        if not isinstance(entry, dict) or entry.get("type") != "BitstringStatusListEntry":
            raise MalformedDocument("credentialStatus", f"expected BitstringStatusListEntry, got {entry!r}")
        purpose = entry.get("statusPurpose")
        index = entry.get("statusListIndex")
        url = entry.get("statusListCredential")
        if purpose not in STATUS_PURPOSES or purpose in found:
            raise MalformedDocument("credentialStatus.statusPurpose", f"unexpected {purpose!r}")
        if not isinstance(index, str) or not index.isdigit() or not 0 <= int(index) < LIST_SIZE:
            raise MalformedDocument("credentialStatus.statusListIndex", f"{index!r} is not an index")
        if not isinstance(url, str):
            raise MalformedDocument("credentialStatus.statusListCredential", "missing")
        found[purpose] = StatusReference(purpose, url, int(index))
    return tuple(found[p] for p in STATUS_PURPOSES)
