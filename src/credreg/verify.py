"""Verifying credreg documents: a list of named steps, each with its own status and reason.

The verdict derives from the steps. "Malformed file", "tampered", "not issued", "revoked", "suspended",
"expired" and "chain unreachable" are different answers (`VerificationReport.code`), so an employer, the
web page and the audit log can each say exactly what is wrong. Many documents are checked with JSON-RPC
batches of `credentialStatus` calls (`CHUNK` to a batch), the first at the latest block and every later one
pinned to it; agency, scope and signer facts are read at that same block, and remembered for it, so a
verdict and its explanation always describe one block, the newest the node reported when the call began.
While the node answers one batch, the next batch's documents are checked locally.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict

from credreg.chain.codec import checksum
from credreg.documents._keccak import new_keccak256
from credreg.documents.canonical import SaltedReader, digest_hashes, flatten, read_salted
from credreg.documents.layout import DocumentBinding, binding_from_document, hidden_among, hidden_fields
from credreg.documents.model import expiry_timestamp
from credreg.documents.wrap import (
    WrappedDocument,
    _collector_paused,
    check_target_hash,
    document_data,
    load_document,
    read_document_quickly,
)
from credreg.errors import ChainError, ChainUnreachable, DocumentError
from credreg.hashes import with_0x
from credreg.labels import NOTES
from credreg.registry import (
    AgencyInfo,
    AgencyState,
    BlockHead,
    CredentialState,
    LedgerReads,
    ScopeInfo,
    SignerInfo,
    Snapshot,
    StatusQuery,
    Verdict,
)


class StepStatus(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    ERROR = "error"
    SKIPPED = "skipped"


class Outcome(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    ERROR = "error"


# The steps, in the order they run; a report always lists all of them.
STEPS: tuple[tuple[str, str], ...] = (
    ("format", "The file is a credreg OpenAttestation v2 document"),
    ("integrity", "No field was changed since the agency signed"),
    ("merkle-proof", "The document belongs to its batch's merkle root"),
    ("registry", "The document names this registry and chain"),
    ("issued", "The root is recorded on the ledger"),
    ("record-match", "The document's agency, scope and validity match the ledger record"),
    ("accredited", "The agency was accredited for the scope when it issued"),
    ("signer", "The signing key was valid and not compromised at issuance"),
    ("agency-standing", "The agency was not revoked before issuing"),
    ("not-revoked", "Neither the document nor its batch is revoked or suspended"),
    ("not-expired", "The credential has not expired"),
)


class Step(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    title: str
    status: StepStatus
    reason: str
    # The reason names its times as `YYYY-MM-DD HH:MM:SS UTC` (never local: the report is the same for every
    # reader); here they are again as Unix seconds, in order, so a reader shows them in its own zone.
    times: list[int] = []


REASON_TIME = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC")


def _seconds(text: str) -> int:
    return int(datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp())


def reason_times(reason: str) -> list[int]:
    """The times a step reason names, as Unix seconds, in order."""
    return [_seconds(m.group(1)) for m in REASON_TIME.finditer(reason)]


def reason_in_zone(reason: str, show: Callable[[int], str]) -> str:
    """`reason` with each of its UTC times written by `show` (for example in the reader's time zone)."""
    return REASON_TIME.sub(lambda m: show(_seconds(m.group(1))), reason)


class AgencySummary(BaseModel):
    agency_id: int
    name: str
    registration_code: str
    state: str
    revocation_cutoff: int | None
    accredited_from: int | None
    accredited_until: int | None


class ScopeSummary(BaseModel):
    scope_id: str
    occupation_code: str
    level: int
    title: str


class Note(BaseModel):
    """A remark beside the verdict that a person must read (codes and words: `credreg.labels.NOTES`)."""

    code: str
    zh: str
    en: str


class VerificationReport(BaseModel):
    """What a verifier concluded about one document, and why."""

    verdict: Outcome
    code: str
    summary: str
    steps: list[Step]
    target_hash: str | None = None
    merkle_root: str | None = None
    kind: str | None = None
    certificate_number: str | None = None
    holder_name: str | None = None
    hidden_fields: list[str] = []
    agency: AgencySummary | None = None
    scope: ScopeSummary | None = None
    signer: str | None = None
    issued_at: int | None = None
    valid_until: int | None = None
    chain_id: int | None = None
    registry: str | None = None
    agency_id: int | None = None
    document_store: str | None = None
    checked_at: int | None = None
    notes: list[Note] = []
    checked_block: int | None = None

    def step(self, name: str) -> Step:
        return next(s for s in self.steps if s.name == name)


_VERDICT_CODES: dict[Verdict, tuple[str, str]] = {
    Verdict.NOT_ISSUED: ("issued", "not-issued"),
    Verdict.INVALID_PROOF: ("merkle-proof", "invalid-proof"),
    Verdict.ROOT_REVOKED: ("not-revoked", "revoked"),
    Verdict.NODE_REVOKED: ("not-revoked", "revoked"),
    Verdict.LEAF_REVOKED: ("not-revoked", "revoked"),
    Verdict.AGENCY_REVOKED: ("agency-standing", "agency-revoked"),
    Verdict.SIGNER_COMPROMISED: ("signer", "signer-compromised"),
    Verdict.EXPIRED: ("not-expired", "expired"),
    Verdict.ROOT_SUSPENDED: ("not-revoked", "suspended"),
    Verdict.NODE_SUSPENDED: ("not-revoked", "suspended"),
    Verdict.LEAF_SUSPENDED: ("not-revoked", "suspended"),
}

_SUMMARIES: dict[str, str] = {
    "valid": "Valid: issued by an accredited agency, unchanged, not revoked, suspended or expired.",
    "malformed": "The file is not a credreg document.",
    "tampered": "The document was changed after it was issued.",
    "invalid-proof": "The document does not belong to the batch it claims.",
    "wrong-registry": "The document belongs to another registry or chain; it cannot be checked here.",
    "not-issued": "The ledger has no record of this document: it was never issued.",
    "record-mismatch": "The document's details differ from what the ledger recorded.",
    "revoked": "The credential was revoked.",
    "suspended": "The credential is suspended.",
    "expired": "The credential has expired.",
    "agency-revoked": "The issuing agency was revoked before this credential was issued.",
    "signer-compromised": "The key that signed this credential was compromised before it was issued.",
    "chain-unreachable": "The ledger could not be reached; try again later.",
}


_TITLES: dict[str, str] = dict(STEPS)


@functools.lru_cache(maxsize=4096)
def _step(name: str, status: StepStatus, reason: str) -> Step:
    # Steps are frozen, and the documents of one batch share most of them word for word ("recorded at ... by
    # agency 1"), so one instance serves them all; they are built from this module's own constants and
    # messages, so pydantic's validation is skipped too. Together that was a fifth of a batch's time.
    reason = str(reason)
    return Step.model_construct(
        name=name, title=_TITLES[name], status=status, reason=reason, times=reason_times(reason)
    )


class _Steps:
    """Collects step outcomes; steps never reached are reported as skipped."""

    def __init__(self) -> None:
        self.done: dict[str, Step] = {}

    def set(self, name: str, status: StepStatus, reason: str) -> None:
        self.done[name] = _step(name, status, reason)

    def ok(self, name: str, reason: str) -> None:
        self.set(name, StepStatus.VALID, reason)

    def listed(self, skip_reason: str) -> list[Step]:
        return [self.done.get(name) or _step(name, StepStatus.SKIPPED, skip_reason) for name, _ in STEPS]


class _Local:
    """A document after the checks that need no chain, with the report fields they found.

    It holds no part of the parsed document but what the report needs: a parsed document is then freed as
    soon as it is checked, while its memory is still in the processor's cache, rather than the whole chunk
    (or call) at once once answered, which took 15 µs a document more (CPU, 10,000 documents)."""

    __slots__ = ("basics", "binding", "steps")

    def __init__(self, binding: DocumentBinding, steps: _Steps, basics: dict[str, Any]) -> None:
        self.binding = binding
        self.steps = steps
        self.basics = basics


# Python's JSON reader and the hashing walk recurse; a hostile file nested thousands deep must not crash us.
_TOO_DEEP = "nested too deeply to be a credreg document"


def _identity(plain: Mapping[str, Any]) -> dict[str, str | None]:
    """Certificate number and holder name for the report, from the document's unsalted data (read once for
    the binding); a tampered file may hold anything there."""
    recipient = plain.get("recipient")
    number = plain.get("id")
    name = recipient.get("name") if isinstance(recipient, Mapping) else None
    return {
        "certificate_number": number if isinstance(number, str) else None,
        "holder_name": name if isinstance(name, str) else None,
    }


def _report(steps: _Steps, code: str, *, skip_reason: str, **fields: Any) -> VerificationReport:
    statuses = {s.status for s in steps.done.values()}
    if code == "valid":
        verdict = Outcome.VALID
    elif code in ("chain-unreachable", "wrong-registry", "malformed") or (
        StepStatus.ERROR in statuses and StepStatus.INVALID not in statuses
    ):
        verdict = Outcome.ERROR
    else:
        verdict = Outcome.INVALID
    return VerificationReport(
        verdict=verdict,
        code=code,
        summary=_SUMMARIES.get(code, code),
        steps=steps.listed(skip_reason),
        **fields,
    )


class _Proofs:
    """Merkle proofs checked with each pair of nodes hashed once: the documents under one root share the
    upper steps of their proofs, so 10,000 of them need about 20,000 pair hashes rather than 140,000."""

    # Bounds the memory of a very large call: past this many pairs, start afresh.
    LIMIT = 1 << 17

    def __init__(self) -> None:
        self._parents: dict[str, str] = {}
        # A node a proof led from to a root: the root, that proof and the node's step in it. A later proof
        # that reaches the node with the very same remaining steps leads to the same root, unwalked: most
        # documents stop a step or two above their target hash, which took the check from 6 µs to 2 µs.
        self._proven: dict[str, tuple[str, Sequence[str], int]] = {}

    def leads_to_root(self, target: str, proof: Sequence[str], root: str) -> bool:
        # Hex digits sort as their bytes do (digits before letters, in one case), so the sorted pair is
        # ordered on the text; `load_document` has checked every hash is 64 hex digits.
        parents, proven = self._parents, self._proven
        if len(parents) > self.LIMIT or len(proven) > self.LIMIT:
            parents.clear()
            proven.clear()
        node, top = target.lower(), root.lower()
        walked: list[tuple[str, int]] = []
        for at, step in enumerate(proof):
            sibling = step.lower()
            pair = node + sibling if node <= sibling else sibling + node
            parent = parents.get(pair)
            if parent is None:
                parent = parents[pair] = new_keccak256(bytes.fromhex(pair)).hexdigest()
            node = parent
            known = proven.get(node)
            if known is not None and known[0] == top and known[1][known[2] + 1 :] == proof[at + 1 :]:
                break
            walked.append((node, at))
        else:
            if node != top:
                return False
        for node, at in walked:
            proven[node] = (top, proof, at)
        return True


def _obfuscated(document: WrappedDocument) -> list[str]:
    privacy = document.get("privacy")
    return list(privacy.get("obfuscatedData", [])) if privacy else []


def _check_locally(
    raw: str | bytes | Mapping[str, Any],
    registry: LedgerReads | None,
    proofs: _Proofs | None = None,
    reader: SaltedReader | None = None,
) -> _Local | VerificationReport:
    if reader is not None and isinstance(raw, str | bytes):
        # Read by orjson, a document that passes every local check with its salted leaves all strings (the
        # usual one) is checked 6 µs sooner; anything else is read again by `json`, whose reading decides.
        quick = read_document_quickly(raw)
        if quick is not None:
            checked = _check_document(quick, registry, proofs, reader, quick=True)
            if checked is not None:
                return checked
    try:
        document = load_document(raw)
    except DocumentError as exc:
        return _malformed(str(exc))
    except RecursionError:
        return _malformed(_TOO_DEEP)
    checked = _check_document(document, registry, proofs, reader, quick=False)
    assert checked is not None
    return checked


def _malformed(reason: str) -> VerificationReport:
    steps = _Steps()
    steps.set("format", StepStatus.INVALID, reason)
    return _report(steps, "malformed", skip_reason="the file could not be read")


def _check_document(
    document: WrappedDocument,
    registry: LedgerReads | None,
    proofs: _Proofs | None,
    reader: SaltedReader | None,
    *,
    quick: bool,
) -> _Local | VerificationReport | None:
    """The local checks of a loaded document. `quick`: it was read by orjson, so return None at once for
    anything but a pass with every salted leaf a string, the one case where orjson's reading is `json`'s."""
    steps = _Steps()
    try:
        # One walk unsalts the data (for the binding and the report's identity), hashes its fields and
        # lists their paths; anything unusual takes the separate steps, which name what is wrong.
        read = reader.read(document["data"]) if reader is not None else read_salted(document["data"])
        if read is None and quick:
            return None
        plain = read[0] if read is not None else document_data(document)
        binding = binding_from_document(document, plain)
    except DocumentError as exc:
        return None if quick else _malformed(str(exc))
    except RecursionError:
        return None if quick else _malformed(_TOO_DEEP)
    done = steps.done
    done["format"] = _format_passed(binding.kind)
    basics: dict[str, Any] = {
        "target_hash": with_0x(binding.target_hash),
        "merkle_root": with_0x(binding.merkle_root),
        "kind": binding.kind,
        "chain_id": binding.chain_id,
        "registry": binding.registry,
        "agency_id": binding.agency_id,
        "document_store": binding.document_store,
    }
    try:
        if read is not None:
            _, field_hashes, paths = read
            basics["hidden_fields"] = hidden_among(binding.kind, tuple(paths))
            basics.update(_identity(plain))
            target = digest_hashes(field_hashes, _obfuscated(document))
            intact = target == document["signature"]["targetHash"]
        else:
            # Flattened once, for the hidden fields and the target hash.
            flat = flatten(document["data"])
            basics["hidden_fields"] = hidden_fields(document, kind=binding.kind, flat=flat)
            basics.update(_identity(plain))
            intact = check_target_hash(document, flat)
    except DocumentError as exc:
        if quick:
            return None
        steps.set("integrity", StepStatus.INVALID, str(exc))
        return _report(steps, "tampered", skip_reason="the document is not intact", **basics)
    except RecursionError:
        if quick:
            return None
        steps.set("integrity", StepStatus.INVALID, _TOO_DEEP)
        return _report(steps, "tampered", skip_reason="the document is not intact", **basics)
    if not intact:
        if quick:
            return None
        steps.set("integrity", StepStatus.INVALID, "the fields do not add up to the signed target hash")
        return _report(steps, "tampered", skip_reason="the document is not intact", **basics)
    done["integrity"] = _integrity_passed(len(basics["hidden_fields"]))
    if not (proofs or _Proofs()).leads_to_root(binding.target_hash, binding.proof, binding.merkle_root):
        if quick:
            return None
        steps.set(
            "merkle-proof",
            StepStatus.INVALID,
            "the proof does not lead from the target hash to the merkle root",
        )
        return _report(steps, "invalid-proof", skip_reason="the document is not part of its batch", **basics)
    done["merkle-proof"] = _proof_passed(len(binding.proof))
    if registry is not None:
        same_chain = binding.chain_id == registry.domain.chain_id
        same_registry = checksum(binding.registry) == registry.address  # cached: one keccak per registry
        if not (same_chain and same_registry):
            if quick:
                return None
            steps.set(
                "registry",
                StepStatus.ERROR,
                f"the document names registry {binding.registry} on chain {binding.chain_id}; this verifier "
                f"reads {registry.address} on chain {registry.domain.chain_id}",
            )
            return _report(steps, "wrong-registry", skip_reason="checked against another registry", **basics)
        done["registry"] = _registry_passed(
            registry.address, registry.domain.chain_id, binding.agency_id, binding.document_store
        )
    return _Local(binding, steps, basics)


# The steps a document passes locally, each made once for all the documents that pass it alike.
@functools.lru_cache(maxsize=64)
def _format_passed(kind: str) -> Step:
    return _step("format", StepStatus.VALID, f"{kind.replace('_', ' ')} certificate, OpenAttestation v2")


@functools.lru_cache(maxsize=256)
def _integrity_passed(hidden: int) -> Step:
    return _step(
        "integrity",
        StepStatus.VALID,
        "all fields match the target hash" + (f"; {hidden} hidden by the holder" if hidden else ""),
    )


@functools.lru_cache(maxsize=256)
def _proof_passed(depth: int) -> Step:
    return _step(
        "merkle-proof",
        StepStatus.VALID,
        "single document" if depth == 0 else f"proof of {depth} steps leads to the root",
    )


@functools.lru_cache(maxsize=1024)
def _registry_passed(address: str, chain_id: int, agency_id: int, store: str) -> Step:
    return _step(
        "registry",
        StepStatus.VALID,
        f"registry {address} on chain {chain_id}, agency {agency_id}'s document store {store}",
    )


class _Facts:
    """Agency, scope and signer facts at one block (read for a chunk's records at once, then merged in)."""

    def __init__(self, registry: LedgerReads, head: BlockHead) -> None:
        self.registry = registry
        self.head = head
        self.agencies: dict[int, AgencyInfo] = {}
        self.scopes: dict[str, ScopeInfo] = {}
        self.signers: dict[str, SignerInfo] = {}
        self.accreditations: dict[tuple[int, str], tuple[int, int]] = {}

    def merge(self, snapshot: Snapshot) -> None:
        self.agencies.update(snapshot.agencies)
        self.scopes.update(snapshot.scopes)
        self.signers.update(snapshot.signers)
        self.accreditations.update(
            {key: (a.valid_from, a.valid_until) for key, a in snapshot.accreditations.items()}
        )

    def _read(
        self,
        agencies: Iterable[int] = (),
        scopes: Iterable[str] = (),
        signers: Iterable[str] = (),
        accreditations: Iterable[tuple[int, str]] = (),
    ) -> None:
        self.merge(
            self.registry.facts_at(
                self.head, agencies=agencies, scopes=scopes, signers=signers, accreditations=accreditations
            )
        )

    def agency(self, agency_id: int) -> AgencyInfo:
        if agency_id not in self.agencies:
            self._read(agencies=[agency_id])
        return self.agencies[agency_id]

    def scope(self, scope_id: str) -> ScopeInfo:
        if scope_id not in self.scopes:
            self._read(scopes=[scope_id])
        return self.scopes[scope_id]

    def signer(self, address: str) -> SignerInfo:
        if address not in self.signers:
            self._read(signers=[address])
        return self.signers[address]

    def accreditation(self, agency_id: int, scope_id: str) -> tuple[int, int]:
        key = (agency_id, scope_id)
        if key not in self.accreditations:
            self._read(accreditations=[key])
        return self.accreditations[key]


# A batch's documents share their issue time and expiry: format and convert each once.
@functools.lru_cache(maxsize=1024)
def _when(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if seconds else "never"


_expiry = functools.lru_cache(maxsize=1024)(expiry_timestamp)


class _Judgement(NamedTuple):
    """What the ledger says of a document: its chain steps, the report fields they found, and the code."""

    steps: dict[str, Step]
    basics: dict[str, Any]
    code: str
    skip_reason: str


# The fields of a report that differ between the documents of one batch; the others follow from its key in
# `_check_on_chain`.
_OWN_FIELDS = ("target_hash", "hidden_fields", "certificate_number", "holder_name")


def _check_on_chain(
    local: _Local,
    state: CredentialState,
    facts: _Facts,
    now: int,
    judged: dict[tuple[Any, ...], Any],
) -> VerificationReport:
    # The documents of one batch get the same answer from the ledger and the same facts, so their chain
    # steps are judged once (`judged` lives as long as one call of `verify_documents`, at one block), and
    # their reports differ only in `_OWN_FIELDS`: the rest (steps, verdict, the ledger's facts) is put
    # together once for every document whose local steps' reasons (kind, hidden fields, proof length,
    # registry) and report fields are the same.
    binding, basics = local.binding, local.basics
    # The state by its id: the ledger reads give the documents of a chunk that get the same answer the same
    # object, and hashing its fields took 2 µs a document. `judged` keeps each state it names alive, so
    # that the id names that state for the whole call.
    key = (id(state), binding.agency_id, binding.scope_id, binding.valid_until, binding.merkle_root)
    shared_key = (
        key,
        binding.kind,
        len(basics["hidden_fields"]),
        len(binding.proof),
        binding.chain_id,
        binding.registry,
        binding.document_store,
    )
    first: VerificationReport | None = judged.get(shared_key)
    if first is None:
        judgement: _Judgement | None = judged.get(key)
        if judgement is None:
            judgement = judged[key] = _judge(binding, state, facts, now)
            judged[(id(state),)] = state
        local.steps.done.update(judgement.steps)
        fields = {**basics, "checked_at": now, "checked_block": facts.head.number, **judgement.basics}
        report = judged[shared_key] = _report(
            local.steps, judgement.code, skip_reason=judgement.skip_reason, **fields
        )
        return report
    # The others are copies of the first with their own fields (as pydantic would have them: a list of
    # hidden fields) and lists of their own, not validated again: 3.2 µs a report became 1.8.
    own: dict[str, Any] = {name: basics[name] for name in _OWN_FIELDS if name in basics}
    own["steps"] = list(first.steps)
    if "hidden_fields" in own:
        own["hidden_fields"] = list(own["hidden_fields"])
    if "notes" in first.model_fields_set:
        own["notes"] = list(first.notes)
    return first.model_copy(update=own)


def _judge(binding: DocumentBinding, state: CredentialState, facts: _Facts, now: int) -> _Judgement:
    steps = _Steps()
    record = state.record
    basics: dict[str, Any] = {}
    if state.verdict is Verdict.NOT_ISSUED:
        steps.set("issued", StepStatus.INVALID, f"root {with_0x(binding.merkle_root)} is not on the ledger")
        return _Judgement(steps.done, basics, "not-issued", "nothing on the ledger to compare with")
    if state.verdict is Verdict.INVALID_PROOF:
        steps.set("merkle-proof", StepStatus.INVALID, "the ledger rejects the proof for this root")
        return _Judgement(steps.done, basics, "invalid-proof", "the document is not part of its batch")
    steps.ok("issued", f"recorded at {_when(record.issued_at)} by agency {record.agency_id}")
    agency = facts.agency(record.agency_id)
    scope = facts.scope(record.scope_id)
    accredited_from, accredited_until = facts.accreditation(record.agency_id, record.scope_id)
    basics.update(
        agency=AgencySummary(
            agency_id=agency.agency_id,
            name=agency.name,
            registration_code=agency.registration_code,
            state=agency.state.name.lower(),
            revocation_cutoff=agency.cutoff if agency.state is AgencyState.REVOKED else None,
            accredited_from=accredited_from or None,
            accredited_until=accredited_until or None,
        ),
        scope=ScopeSummary(
            scope_id=scope.scope_id,
            occupation_code=scope.occupation_code,
            level=scope.level,
            title=scope.title,
        ),
        signer=record.signer,
        issued_at=record.issued_at,
        valid_until=record.valid_until or None,
    )
    mismatches = []
    if record.agency_id != binding.agency_id:
        mismatches.append(f"agency {binding.agency_id} in the document, {record.agency_id} on the ledger")
    if record.scope_id.lower() != binding.scope_id.lower():
        mismatches.append(f"scope {binding.scope_id} in the document, {record.scope_id} on the ledger")
    expected_until = _expiry(binding.valid_until)
    if record.valid_until != expected_until:
        mismatches.append(
            f"valid until {_when(expected_until)} in the document, {_when(record.valid_until)} on the ledger"
        )
    if mismatches:
        steps.set("record-match", StepStatus.INVALID, "; ".join(mismatches))
        return _Judgement(steps.done, basics, "record-mismatch", "the document does not match its record")
    steps.ok("record-match", f"agency {agency.name}, scope {scope.occupation_code} level {scope.level}")
    steps.ok(
        "accredited",
        f"the registry checked accreditation for {scope.title} when it recorded the root at {_when(record.issued_at)}",
    )
    signer = facts.signer(record.signer)
    # The ledger names only the most decisive reason (revoked > agency cut-off > compromised key > expired >
    # suspended). The other steps are judged from the facts read above, by the contract's own rules, so that
    # no step claims "valid" for something the verdict merely outranked.
    judged = state.verdict is not Verdict.VALID
    compromised = state.verdict is Verdict.SIGNER_COMPROMISED or (
        judged and 0 < signer.compromised_since <= record.issued_at
    )
    cut_off = state.verdict is Verdict.AGENCY_REVOKED or (
        judged and agency.state is AgencyState.REVOKED and agency.cutoff <= record.issued_at
    )
    expired = state.verdict is Verdict.EXPIRED or (judged and 0 < record.valid_until <= now)
    if compromised:
        steps.set(
            "signer",
            StepStatus.INVALID,
            f"key {record.signer} was reported compromised since {_when(signer.compromised_since)}, "
            f"before this credential was issued",
        )
    else:
        steps.ok("signer", f"key {record.signer} was valid when it signed")
    if cut_off:
        steps.set(
            "agency-standing",
            StepStatus.INVALID,
            f"agency {agency.name} was revoked with cut-off {_when(agency.cutoff)}, at or before issuance",
        )
    else:
        standing = agency.state.name.lower()
        if agency.state is AgencyState.SUSPENDED:
            # The contract refuses issuance from an agency that is not active, so a recorded root was
            # issued while it was active: the credential stands, but the person must be told.
            basics["notes"] = [Note(code="agency-suspended", **NOTES["agency-suspended"]._asdict())]
            standing = "suspended now; it was active when it issued this credential"
        steps.ok(
            "agency-standing",
            f"agency is {standing}"
            + (
                f"; its cut-off {_when(agency.cutoff)} falls after this credential"
                if agency.state is AgencyState.REVOKED
                else ""
            ),
        )
    if state.verdict in (Verdict.ROOT_REVOKED, Verdict.NODE_REVOKED, Verdict.LEAF_REVOKED):
        which = {
            Verdict.ROOT_REVOKED: "its whole batch",
            Verdict.NODE_REVOKED: "part of its batch",
            Verdict.LEAF_REVOKED: "this document",
        }[state.verdict]
        steps.set(
            "not-revoked",
            StepStatus.INVALID,
            f"{which} was revoked at {_when(state.since)} (reason code {state.reason})",
        )
    elif state.verdict in (Verdict.ROOT_SUSPENDED, Verdict.NODE_SUSPENDED, Verdict.LEAF_SUSPENDED):
        which = {
            Verdict.ROOT_SUSPENDED: "its whole batch",
            Verdict.NODE_SUSPENDED: "part of its batch",
            Verdict.LEAF_SUSPENDED: "this document",
        }[state.verdict]
        steps.set(
            "not-revoked",
            StepStatus.INVALID,
            f"{which} is suspended since {_when(state.since)} (reason code {state.reason})",
        )
    elif judged:
        steps.set(
            "not-revoked",
            StepStatus.SKIPPED,
            "not revoked; the ledger reports a suspension only when nothing weightier applies",
        )
    else:
        steps.ok("not-revoked", "neither revoked nor suspended")
    if expired:
        steps.set("not-expired", StepStatus.INVALID, f"expired at {_when(record.valid_until)}")
    else:
        steps.ok(
            "not-expired",
            "no expiry" if not record.valid_until else f"valid until {_when(record.valid_until)}",
        )
    code = "valid" if state.verdict is Verdict.VALID else _VERDICT_CODES[state.verdict][1]
    return _Judgement(steps.done, basics, code, "not needed: an earlier step decided")


def verify_documents(
    registry: LedgerReads,
    documents: Sequence[str | bytes | Mapping[str, Any]],
    *,
    progress: Callable[[int], None] | None = None,
    at: BlockHead | None = None,
) -> list[VerificationReport]:
    """Verify many documents: local checks for each, then batched ledger reads for all that pass, all at one
    block: `at`, or the head when the first read is made. `progress(done)` is told how many are done, after
    each ledger round trip."""
    # A batch keeps every parsed document and report alive until it returns, so the cyclic collector's
    # passes over them find nothing: pausing it (as issuance does) took the CPU time of a batch of 2,000
    # from 204 to 182 µs a document (best of 4).
    with _collector_paused():
        return _verify_documents(registry, documents, progress, at)


# One reader for every call: compiling a data shape takes about 340 µs, which a call of one document (the
# API's) must not pay each time. It learns at most `SaltedReader._MAX_SHAPES` shapes, which any thread may
# use at once.
_READER = SaltedReader()

# Documents to a ledger round trip (one JSON-RPC batch). While the node answers one chunk, the next one's
# local checks run, so on two cores the node's time (about 65 µs a `credentialStatus` call on anvil) and
# ours (about 120 µs of CPU a document) overlap instead of adding up. A call of at most one chunk (the API's)
# starts no thread.
CHUNK = 500


class _Answer(NamedTuple):
    pending: list[tuple[int, _Local]]
    states: list[CredentialState]
    facts: Snapshot | None
    failure: Exception | None


class _Ledger:
    """The ledger reads of one `verify_documents` call: one chunk in flight while the caller works.

    The first chunk learns the head block (unless the caller named one); every later chunk is read pinned to
    that block, so every verdict of the call describes one block."""

    def __init__(self, registry: LedgerReads, pool: Executor | None, head: BlockHead | None = None) -> None:
        self.registry = registry
        self.pool = pool
        self.head = head
        self.facts: _Facts | None = None
        self.failure: Exception | None = None
        self._job: Future[_Answer] | Callable[[], _Answer] | None = None

    def send(self, pending: list[tuple[int, _Local]]) -> None:
        def read() -> _Answer:
            if failure is not None:
                return _Answer(pending, [], None, failure)
            queries: list[StatusQuery] = [
                (b.agency_id, with_0x(b.merkle_root), b.target_hash, b.proof)
                for b in (local.binding for _, local in pending)
            ]
            try:
                found, states = self.registry.statuses(queries, at=head)
                issued = [s.record for s in states if s.record.issued]
                snapshot = self.registry.facts_at(
                    found,
                    agencies={r.agency_id for r in issued},
                    scopes={r.scope_id for r in issued},
                    signers={r.signer for r in issued},
                    accreditations={(r.agency_id, r.scope_id) for r in issued},
                )
            except (ChainError, ConnectionError) as exc:
                return _Answer(pending, [], None, exc)
            self.head = found
            return _Answer(pending, states, snapshot, None)

        head, failure = self.head, self.failure
        self._job = self.pool.submit(read) if self.pool is not None else read

    def wait(self) -> _Answer | None:
        job, self._job = self._job, None
        if job is None:
            return None
        answer = job.result() if isinstance(job, Future) else job()
        if answer.failure is not None:
            self.failure = self.failure or answer.failure
        elif answer.facts is not None and self.head is not None:
            if self.facts is None:
                self.facts = _Facts(self.registry, self.head)
            self.facts.merge(answer.facts)
        return answer


def _verify_documents(
    registry: LedgerReads,
    documents: Sequence[str | bytes | Mapping[str, Any]],
    progress: Callable[[int], None] | None,
    at: BlockHead | None = None,
) -> list[VerificationReport]:
    reports: list[VerificationReport | None] = [None] * len(documents)
    proofs = _Proofs()
    reader = _READER
    judged: dict[tuple[Any, ...], Any] = {}

    def answer(done: _Answer | None, ledger: _Ledger) -> None:
        if done is None:
            return
        failure, facts = done.failure, ledger.facts
        if failure is None and facts is not None:
            try:
                for (index, local), state in zip(done.pending, done.states, strict=True):
                    reports[index] = _check_on_chain(local, state, facts, facts.head.timestamp, judged)
                return
            except (ChainError, ConnectionError) as exc:  # a fact read on demand failed
                failure = ledger.failure = exc
        for index, local in done.pending:
            if reports[index] is None:
                reports[index] = (
                    _unreachable(local, str(failure))
                    if isinstance(failure, ChainUnreachable | ConnectionError)
                    else _chain_error(local, str(failure))
                )

    with contextlib.ExitStack() as stack:
        pool = stack.enter_context(ThreadPoolExecutor(1)) if len(documents) > CHUNK else None
        ledger = _Ledger(registry, pool, at)
        for start in range(0, len(documents), CHUNK):
            pending: list[tuple[int, _Local]] = []
            for index in range(start, min(start + CHUNK, len(documents))):
                checked = _check_locally(documents[index], registry, proofs, reader)
                if isinstance(checked, _Local):
                    pending.append((index, checked))
                else:
                    reports[index] = checked
            done = ledger.wait()
            if pending:
                ledger.send(pending)
            answer(done, ledger)
            if progress is not None and start:
                progress(start)
        answer(ledger.wait(), ledger)
    if progress is not None:
        progress(len(documents))
    return [r for r in reports if r is not None]


def verify_document(registry: LedgerReads, document: str | bytes | Mapping[str, Any]) -> VerificationReport:
    """Verify one document (see `verify_documents`)."""
    return verify_documents(registry, [document])[0]


def verify_offline(document: str | bytes | Mapping[str, Any]) -> VerificationReport:
    """The checks that need no ledger: format, integrity and merkle proof. Chain steps are skipped."""
    checked = _check_locally(document, None)
    if isinstance(checked, VerificationReport):
        return checked
    checked.steps.set("registry", StepStatus.SKIPPED, "no ledger consulted")
    return VerificationReport(
        verdict=Outcome.ERROR,
        code="offline",
        summary="The document is intact, but no ledger was consulted: it is not known to be issued.",
        steps=checked.steps.listed("no ledger consulted"),
        target_hash=with_0x(checked.binding.target_hash),
        merkle_root=with_0x(checked.binding.merkle_root),
        kind=checked.binding.kind,
    )


def _unreachable(local: _Local, why: str) -> VerificationReport:
    local.steps.set("issued", StepStatus.ERROR, f"the ledger did not answer: {why}")
    return _report(local.steps, "chain-unreachable", skip_reason="the ledger could not be reached")


def _chain_error(local: _Local, why: str) -> VerificationReport:
    local.steps.set("issued", StepStatus.ERROR, f"the ledger answered with an error: {why}")
    return _report(local.steps, "chain-unreachable", skip_reason="the ledger could not be read")


__all__ = [
    "REASON_TIME",
    "STEPS",
    "AgencySummary",
    "Note",
    "Outcome",
    "ScopeSummary",
    "Step",
    "StepStatus",
    "VerificationReport",
    "reason_in_zone",
    "reason_times",
    "verify_document",
    "verify_documents",
    "verify_offline",
]
