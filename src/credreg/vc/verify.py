"""Verifying a certificate in its VC 2.0 or SD-JWT VC form: the same named steps as `credreg.verify`.

The checks that need nothing but the file (format, the issuer's signature, the merkle proof, expiry)
run here; the ledger's part comes through a `LedgerResolver`, which the registry backs in production
and tests back with fakes. The steps:

- ``format``: the file is a credreg VC 2.0 or SD-JWT VC;
- ``integrity``: the Data Integrity proof (VC) or the JWS and every disclosure (SD-JWT) verify, by the
  key the issuer names;
- ``merkle-proof``: the anchored target hash belongs to the anchored merkle root;
- ``registry``: the credential names the chain and registry the resolver reads;
- ``issued``, ``record-match``: the root is on the ledger under the agency, scope and validity it claims;
- ``accredited``: the agency was accredited for the scope when the root was issued;
- ``signer``: the issuer key is registered on the ledger for that agency, was in its window when it
  signed (the proof's ``created``, the SD-JWT's ``iat``) and has not been reported compromised (a
  VC is only a re-encoding of ledger facts, so one signed by a compromised key is re-exported, not
  trusted);
- ``agency-standing``: the agency was not revoked before issuing;
- ``not-revoked``: neither the status lists nor the ledger show the certificate revoked or suspended, and
  they agree (a list signed by a key the resolver does not trust, or stale against the ledger, is an
  error, never a pass);
- ``not-expired``: the certificate's validity has not ended.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final, Protocol

from credreg.chain.states import Verdict, in_window
from credreg.documents.merkle import verify_proof
from credreg.documents.model import CertificateKind, expiry_timestamp, scope_id
from credreg.errors import CredregError, DocumentError, MalformedDocument
from credreg.hashes import hash32, hash_bytes
from credreg.vc.export import LedgerAnchor, StatusReference, read_vc
from credreg.vc.proof import check_proof
from credreg.vc.sdjwt import verify_sd_jwt
from credreg.vc.statuslist import LIST_SIZE, STATUS_PURPOSES, bit_is_set, decode_list
from credreg.verify import Outcome, Step, StepStatus, VerificationReport

__all__ = [
    "VC_STEPS",
    "IssuerKeyRecord",
    "LedgerRecord",
    "LedgerResolver",
    "verify_credential",
    "verify_sd_jwt_vc",
    "verify_vc",
]

VC_STEPS: Final[tuple[tuple[str, str], ...]] = (
    ("format", "The file is a credreg VC 2.0 or SD-JWT VC"),
    ("integrity", "The issuer's signature covers every field as it is"),
    ("merkle-proof", "The credential belongs to its batch's merkle root"),
    ("registry", "The credential names this registry and chain"),
    ("issued", "The root is recorded on the ledger"),
    ("record-match", "The credential's agency, scope and validity match the ledger record"),
    ("accredited", "The agency was accredited for the scope when it issued"),
    ("signer", "The issuer key is the agency's on the ledger, in its window and not compromised"),
    ("agency-standing", "The agency was not revoked before issuing"),
    ("not-revoked", "Neither status lists nor ledger show it revoked or suspended, and they agree"),
    ("not-expired", "The credential has not expired"),
)
_TITLES: Final = dict(VC_STEPS)

_SUMMARIES: Final = {
    "valid": "Valid: issued by an accredited agency, signed by its registered key, not revoked or expired.",
    "malformed": "The file is not a credreg VC 2.0 or SD-JWT VC.",
    "tampered": "The credential was changed after the agency signed it.",
    "invalid-proof": "The credential does not belong to the batch it claims.",
    "wrong-registry": "The credential belongs to another registry or chain; it cannot be checked here.",
    "not-issued": "The ledger has no record of this credential: it was never issued.",
    "record-mismatch": "The credential's details differ from what the ledger recorded.",
    "not-accredited": "The agency was not accredited for this scope when it issued.",
    "issuer-key-unbound": "The key that signed this credential is not the agency's registered key for that time.",
    "issuer-key-compromised": "The key that signed this credential was reported compromised.",
    "signer-compromised": "The key that recorded this credential on the ledger was compromised before it was issued.",
    "agency-revoked": "The issuing agency was revoked before this credential was issued.",
    "revoked": "The credential was revoked.",
    "suspended": "The credential is suspended.",
    "status-mismatch": "The published status list and the ledger disagree; try again later.",
    "expired": "The credential has expired.",
    "chain-unreachable": "The ledger or the status list could not be reached; try again later.",
}
_ERROR_CODES: Final = frozenset({"malformed", "wrong-registry", "chain-unreachable", "status-mismatch"})
_REVOKED: Final = frozenset({Verdict.ROOT_REVOKED, Verdict.NODE_REVOKED, Verdict.LEAF_REVOKED})
_SUSPENDED: Final = frozenset({Verdict.ROOT_SUSPENDED, Verdict.NODE_SUSPENDED, Verdict.LEAF_SUSPENDED})


# --- what the ledger answers ------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuerKeyRecord:
    """The ledger's ``issuerKey(publicKey)``: times in seconds, 0 as an end or compromise means none."""

    agency_id: int
    valid_from: int
    valid_until: int
    compromised_since: int


@dataclass(frozen=True)
class LedgerRecord:
    """The ledger's ``credentialStatus(agencyId, root, leaf, proof)`` answer."""

    verdict: Verdict
    agency_id: int
    scope_id: str
    issued_at: int
    valid_until: int


class LedgerResolver(Protocol):
    """The ledger and status list look-ups verification needs; the registry implements them."""

    @property
    def chain_id(self) -> int: ...

    @property
    def registry(self) -> str: ...

    def now(self) -> int:
        """The time to judge expiry and status at (the ledger's latest block time)."""
        ...

    def credential(self, agency_id: int, root: str, leaf: str, proof: Sequence[str]) -> LedgerRecord: ...

    def issuer_key(self, public_key: str) -> IssuerKeyRecord | None:
        """The key's ledger record (`public_key` as 0x bytes32), None if it was never registered."""
        ...

    def accreditation(self, agency_id: int, scope_id: str) -> tuple[int, int] | None:
        """The agency's accreditation window for the scope, None if it never had one."""
        ...

    def status_list(self, url: str) -> Mapping[str, Any]:
        """The BitstringStatusListCredential published at `url` (`ChainUnreachable` if it cannot be had)."""
        ...

    def is_status_list_signer(self, public_key: str) -> bool:
        """Whether the operator's status lists may be signed by this key (0x bytes32)."""
        ...


# --- steps and report -------------------------------------------------------------------------------


class _Steps:
    def __init__(self) -> None:
        self.done: dict[str, Step] = {}

    def set(self, name: str, status: StepStatus, reason: str) -> None:
        self.done[name] = Step(name=name, title=_TITLES[name], status=status, reason=reason)

    def ok(self, name: str, reason: str) -> None:
        self.set(name, StepStatus.VALID, reason)

    def listed(self, skip_reason: str) -> list[Step]:
        return [
            self.done.get(name) or Step(name=name, title=title, status=StepStatus.SKIPPED, reason=skip_reason)
            for name, title in VC_STEPS
        ]


def _report(steps: _Steps, code: str, skip_reason: str, fields: Mapping[str, Any]) -> VerificationReport:
    if code == "valid":
        verdict = Outcome.VALID
    elif code in _ERROR_CODES:
        verdict = Outcome.ERROR
    else:
        verdict = Outcome.INVALID
    return VerificationReport(
        verdict=verdict,
        code=code,
        summary=_SUMMARIES[code],
        steps=steps.listed(skip_reason),
        **fields,
    )


@dataclass(frozen=True)
class _Claimed:
    """What a credential claims, once its signature is known good."""

    kind: CertificateKind
    anchor: LedgerAnchor
    scope_id: str
    valid_until: int
    public_key: bytes
    signed_at: int
    statuses: tuple[StatusReference, ...]


# --- entry points -----------------------------------------------------------------------------------


def verify_credential(raw: str | bytes | Mapping[str, Any], resolver: LedgerResolver) -> VerificationReport:
    """Verify a VC 2.0 (JSON object or its text) or an SD-JWT VC (compact text), whichever `raw` is."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            steps = _Steps()
            steps.set("format", StepStatus.INVALID, "not UTF-8 text")
            return _report(steps, "malformed", "the file could not be read", {})
    if isinstance(raw, str) and not raw.lstrip().startswith("{"):
        return verify_sd_jwt_vc(raw, resolver)
    return verify_vc(raw, resolver)


def verify_vc(raw: str | Mapping[str, Any], resolver: LedgerResolver) -> VerificationReport:
    """Verify a credreg VC 2.0 with an ``eddsa-rdfc-2022`` proof; the report names every step."""
    steps = _Steps()
    fields: dict[str, Any] = {}
    try:
        credential = json.loads(raw) if isinstance(raw, str) else raw
        if not isinstance(credential, Mapping):
            raise MalformedDocument("(file)", "a VC is a JSON object")
        contents = read_vc(credential)
    except (ValueError, DocumentError, RecursionError) as error:
        steps.set("format", StepStatus.INVALID, _reason(error))
        return _report(steps, "malformed", "the file could not be read", fields)
    certificate = contents.certificate
    fields.update(
        kind=certificate.kind,
        certificate_number=certificate.certificate_number,
        holder_name=certificate.holder.name,
        target_hash=contents.anchor.target_hash,
        merkle_root=contents.anchor.merkle_root,
        chain_id=contents.anchor.chain_id,
        registry=contents.anchor.registry,
        signer=contents.issuer,
        valid_until=expiry_timestamp(certificate.valid_until) or None,
    )
    steps.ok("format", f"{certificate.kind.replace('_', ' ')} certificate, W3C VC 2.0")
    try:
        check = check_proof(credential)
        if check.verification_method.partition("#")[0] != contents.issuer:
            raise MalformedDocument("proof.verificationMethod", "is not a key of the credential's issuer")
    except (DocumentError, RecursionError) as error:
        steps.set("integrity", StepStatus.INVALID, _reason(error))
        return _report(steps, "tampered", "the credential is not intact", fields)
    steps.ok("integrity", f"eddsa-rdfc-2022 proof by {contents.issuer}")
    claimed = _Claimed(
        kind=certificate.kind,
        anchor=contents.anchor,
        scope_id=certificate.scope_id,
        valid_until=expiry_timestamp(certificate.valid_until),
        public_key=check.public_key,
        signed_at=int(check.created.timestamp()),
        statuses=contents.statuses,
    )
    return _ledger_steps(claimed, steps, fields, resolver)


def verify_sd_jwt_vc(raw: str, resolver: LedgerResolver) -> VerificationReport:
    """Verify a credreg SD-JWT VC (with any fields the holder hid); the report names every step."""
    steps = _Steps()
    fields: dict[str, Any] = {}
    try:
        check = verify_sd_jwt(raw)
    except (DocumentError, RecursionError) as error:
        tampered = isinstance(error, MalformedDocument) and error.field in ("(jwt signature)", "(disclosure)")
        if tampered:
            steps.ok("format", "SD-JWT VC")
            steps.set("integrity", StepStatus.INVALID, _reason(error))
            return _report(steps, "tampered", "the credential is not intact", fields)
        steps.set("format", StepStatus.INVALID, _reason(error))
        return _report(steps, "malformed", "the file could not be read", fields)
    claims = check.claims
    try:
        claimed, more = _sd_jwt_claims(check.kind, claims, check.public_key)
    except (DocumentError, KeyError, TypeError, ValueError) as error:
        steps.set("format", StepStatus.INVALID, _reason(error))
        return _report(steps, "malformed", "the file could not be read", fields)
    fields.update(more, hidden_fields=list(check.hidden))
    steps.ok("format", f"{check.kind.replace('_', ' ')} certificate, SD-JWT VC")
    hidden = f"; {len(check.hidden)} field(s) hidden by the holder" if check.hidden else ""
    steps.ok("integrity", f"EdDSA signature by {claims['iss']} and every disclosure verify{hidden}")
    return _ledger_steps(claimed, steps, fields, resolver)


def _sd_jwt_claims(
    kind: CertificateKind, claims: Mapping[str, Any], public_key: bytes
) -> tuple[_Claimed, dict[str, Any]]:
    credreg = claims["credreg"]
    ledger = claims["ledger"]
    recipient = claims.get("recipient", {})
    if credreg["kind"] != kind:
        raise MalformedDocument("credreg.kind", f"{credreg['kind']!r} under vct of {kind}")
    claimed_scope = str(credreg["scopeId"]).lower()
    if claimed_scope != scope_id(credreg["occupation"]["code"], credreg["level"]):
        raise MalformedDocument("credreg.scopeId", "is not the scope of the occupation and level")
    anchor = LedgerAnchor(
        chain_id=int(credreg["chainId"]),
        registry=str(credreg["registry"]),
        agency_id=int(credreg["agencyId"]),
        merkle_root=hash32(ledger["merkleRoot"]),
        target_hash=hash32(ledger["targetHash"]),
        proof=tuple(hash32(p) for p in ledger["merkleProof"]),
    )
    statuses = []
    for entry, purpose in zip(claims["credentialStatus"], STATUS_PURPOSES, strict=True):
        if entry["statusPurpose"] != purpose or entry["type"] != "BitstringStatusListEntry":
            raise MalformedDocument("credentialStatus", f"expected the {purpose} entry")
        index = int(entry["statusListIndex"])
        if not 0 <= index < LIST_SIZE:
            raise MalformedDocument("credentialStatus.statusListIndex", f"{index} is not a list entry")
        statuses.append(StatusReference(purpose, str(entry["statusListCredential"]), index))
    valid_until = int(claims.get("exp", 0))
    through = credreg["validUntil"]
    if valid_until != expiry_timestamp(date.fromisoformat(through) if through is not None else None):
        raise MalformedDocument("exp", "does not match credreg.validUntil")
    claimed = _Claimed(
        kind=kind,
        anchor=anchor,
        scope_id=claimed_scope,
        valid_until=valid_until,
        public_key=public_key,
        signed_at=int(claims["iat"]),
        statuses=tuple(statuses),
    )
    more = {
        "kind": kind,
        "certificate_number": claims.get("id"),
        "holder_name": recipient.get("name") if isinstance(recipient, Mapping) else None,
        "target_hash": anchor.target_hash,
        "merkle_root": anchor.merkle_root,
        "chain_id": anchor.chain_id,
        "registry": anchor.registry,
        "signer": claims["iss"],
        "valid_until": valid_until or None,
    }
    return claimed, more


def _reason(error: BaseException) -> str:
    if isinstance(error, RecursionError):
        return "nested too deeply to be a credreg credential"
    if isinstance(error, MalformedDocument):
        return f"{error.field}: {error.reason}"
    if isinstance(error, KeyError):
        return f"missing claim {error}"
    return str(error)


# --- the ledger's part ------------------------------------------------------------------------------


def _ledger_steps(
    claimed: _Claimed, steps: _Steps, fields: dict[str, Any], resolver: LedgerResolver
) -> VerificationReport:
    anchor = claimed.anchor
    leaf, root = hash_bytes(anchor.target_hash), hash_bytes(anchor.merkle_root)
    if not verify_proof(leaf, [hash_bytes(p) for p in anchor.proof], root):
        steps.set(
            "merkle-proof", StepStatus.INVALID, "the proof does not lead from the target hash to the root"
        )
        return _report(steps, "invalid-proof", "the credential is not part of its batch", fields)
    depth = len(anchor.proof)
    steps.ok("merkle-proof", "single document" if depth == 0 else f"proof of {depth} steps leads to the root")
    if anchor.chain_id != resolver.chain_id or anchor.registry.lower() != resolver.registry.lower():
        steps.set(
            "registry",
            StepStatus.ERROR,
            f"the credential names registry {anchor.registry} on chain {anchor.chain_id}; this verifier reads "
            f"{resolver.registry} on chain {resolver.chain_id}",
        )
        return _report(steps, "wrong-registry", "checked against another registry", fields)
    steps.ok("registry", f"registry {resolver.registry} on chain {resolver.chain_id}")
    try:
        return _on_ledger(claimed, steps, fields, resolver)
    except CredregError as error:
        # ChainUnreachable, a list that cannot be fetched: an answer for later, never a verdict.
        pending = next(name for name, _ in VC_STEPS if name not in steps.done)
        steps.set(pending, StepStatus.ERROR, str(error))
        return _report(steps, "chain-unreachable", "the ledger could not be read", fields)


def _on_ledger(
    claimed: _Claimed, steps: _Steps, fields: dict[str, Any], resolver: LedgerResolver
) -> VerificationReport:
    anchor = claimed.anchor
    now = resolver.now()
    fields["checked_at"] = now
    record = resolver.credential(anchor.agency_id, anchor.merkle_root, anchor.target_hash, anchor.proof)
    if record.verdict is Verdict.NOT_ISSUED:
        steps.set(
            "issued",
            StepStatus.INVALID,
            f"no record of root {anchor.merkle_root} for agency {anchor.agency_id}",
        )
        return _report(steps, "not-issued", "there is no ledger record to check against", fields)
    if record.verdict is Verdict.INVALID_PROOF:
        steps.set("issued", StepStatus.INVALID, "the ledger refuses the merkle proof")
        return _report(steps, "invalid-proof", "there is no ledger record to check against", fields)
    fields["issued_at"] = record.issued_at
    steps.ok("issued", f"recorded at {record.issued_at} by agency {record.agency_id}")
    mismatches = []
    if record.agency_id != anchor.agency_id:
        mismatches.append(f"agency {anchor.agency_id} vs {record.agency_id} on the ledger")
    if record.scope_id.lower() != claimed.scope_id:
        mismatches.append(f"scope {claimed.scope_id} vs {record.scope_id} on the ledger")
    if record.valid_until != claimed.valid_until:
        mismatches.append(f"valid until {claimed.valid_until} vs {record.valid_until} on the ledger")
    if mismatches:
        steps.set("record-match", StepStatus.INVALID, "; ".join(mismatches))
        return _report(steps, "record-mismatch", "the credential does not match its record", fields)
    steps.ok("record-match", "agency, scope and validity match")
    window = resolver.accreditation(record.agency_id, record.scope_id)
    if window is None or not in_window(window[0], window[1], record.issued_at):
        steps.set("accredited", StepStatus.INVALID, f"no accreditation for the scope at {record.issued_at}")
        return _report(steps, "not-accredited", "the agency was not accredited", fields)
    steps.ok("accredited", f"accredited from {window[0]}" + (f" until {window[1]}" if window[1] else ""))
    key_hex = "0x" + claimed.public_key.hex()
    key = resolver.issuer_key(key_hex)
    if key is None or key.agency_id != record.agency_id:
        owner = "not registered" if key is None else f"registered for agency {key.agency_id}"
        steps.set(
            "signer", StepStatus.INVALID, f"issuer key {key_hex} is {owner}, not agency {record.agency_id}'s"
        )
        return _report(steps, "issuer-key-unbound", "the issuer key is not the agency's", fields)
    if key.compromised_since:
        steps.set(
            "signer", StepStatus.INVALID, f"issuer key reported compromised since {key.compromised_since}"
        )
        return _report(steps, "issuer-key-compromised", "the issuer key is compromised", fields)
    if not in_window(key.valid_from, key.valid_until, claimed.signed_at):
        steps.set(
            "signer",
            StepStatus.INVALID,
            f"signed at {claimed.signed_at}, outside the key's window {key.valid_from}..{key.valid_until or 'open'}",
        )
        return _report(steps, "issuer-key-unbound", "the issuer key was not valid when it signed", fields)
    if record.verdict is Verdict.SIGNER_COMPROMISED:
        steps.set(
            "signer", StepStatus.INVALID, "the ledger key that recorded this root was compromised by then"
        )
        return _report(steps, "signer-compromised", "the recording key is compromised", fields)
    steps.ok("signer", f"agency {record.agency_id}'s key, signed at {claimed.signed_at} within its window")
    if record.verdict is Verdict.AGENCY_REVOKED:
        steps.set("agency-standing", StepStatus.INVALID, "the agency was revoked before this root was issued")
        return _report(steps, "agency-revoked", "the agency was revoked", fields)
    steps.ok("agency-standing", "not revoked before issuing")
    listed = _listed_status(claimed.statuses, resolver, now)
    if isinstance(listed, str):
        steps.set("not-revoked", StepStatus.ERROR, listed)
        return _report(steps, "status-mismatch", "the status lists cannot be used", fields)
    revoked_bit, suspended_bit = listed
    on_ledger_revoked = record.verdict in _REVOKED
    known_suspension = record.verdict in _SUSPENDED or record.verdict is Verdict.VALID
    # credentialStatus reports the most decisive verdict only: revoked hides suspended, and agency or expiry
    # verdicts hide suspension, so only what the verdict decides is compared.
    agree = revoked_bit == on_ledger_revoked
    if known_suspension and not on_ledger_revoked:
        agree = agree and suspended_bit == (record.verdict in _SUSPENDED)
    if not agree:
        steps.set(
            "not-revoked",
            StepStatus.ERROR,
            f"lists say revoked={revoked_bit} suspended={suspended_bit}; the ledger says {record.verdict.label}",
        )
        return _report(steps, "status-mismatch", "status list and ledger disagree", fields)
    if on_ledger_revoked or record.verdict in _SUSPENDED:
        code = "revoked" if on_ledger_revoked else "suspended"
        steps.set(
            "not-revoked",
            StepStatus.INVALID,
            f"{record.verdict.label}, on the ledger and in the {'revocation' if on_ledger_revoked else 'suspension'} list",
        )
        return _report(steps, code, f"the credential is {code}", fields)
    steps.ok("not-revoked", "not revoked or suspended, on the ledger and in both lists")
    if claimed.valid_until and now >= claimed.valid_until:
        steps.set("not-expired", StepStatus.INVALID, f"expired at {claimed.valid_until}")
        return _report(steps, "expired", "", fields)
    steps.ok("not-expired", f"valid until {claimed.valid_until}" if claimed.valid_until else "no expiry")
    return _report(steps, "valid", "", fields)


def _listed_status(
    statuses: Sequence[StatusReference], resolver: LedgerResolver, now: int
) -> tuple[bool, bool] | str:
    """(revoked, suspended) from the published lists, or why the lists cannot be trusted."""
    bits = []
    for entry in statuses:
        listing = resolver.status_list(entry.url)
        if not isinstance(listing, Mapping):
            return f"the {entry.purpose} list at {entry.url} is not a JSON object"
        try:
            check = check_proof(listing)
        except (DocumentError, RecursionError) as error:
            return f"the {entry.purpose} list at {entry.url} does not verify: {_reason(error)}"
        if not resolver.is_status_list_signer("0x" + check.public_key.hex()):
            return f"the {entry.purpose} list is signed by {check.verification_method}, not a trusted operator key"
        subject = listing.get("credentialSubject")
        if (
            listing.get("id") != entry.url
            or listing.get("issuer") != check.verification_method.partition("#")[0]
            or not isinstance(subject, Mapping)
            or subject.get("statusPurpose") != entry.purpose
            or not isinstance(subject.get("encodedList"), str)
        ):
            return f"the list at {entry.url} is not the {entry.purpose} list it should be"
        until = listing.get("validUntil")
        if until is not None and _timestamp(until) <= now:
            return f"the {entry.purpose} list at {entry.url} is out of date (valid until {until})"
        try:
            bitstring = decode_list(subject["encodedList"])
        except DocumentError as error:
            return f"the {entry.purpose} list at {entry.url}: {_reason(error)}"
        bits.append(bit_is_set(bitstring, entry.index))
    return bits[0], bits[1]


def _timestamp(value: object) -> float:
    """Seconds of an XML Schema dateTime; anything unreadable counts as long past."""
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        return 0.0
    return moment.timestamp()
