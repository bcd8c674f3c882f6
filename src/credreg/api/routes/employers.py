"""For employers (and anyone checking a certificate): verify documents, look up a hash's status."""

from __future__ import annotations

import base64
import io
from typing import Annotated, Any, Literal

import segno
from fastapi import APIRouter, Body, Path, Query, Request, Response
from pydantic import TypeAdapter

from credreg.api.deps import IndexDep, OutboxDep, RegistryDep, SettingsDep
from credreg.api.models import BatchOut, CredentialOut, RecordOut, StatusChangeOut
from credreg.api.problems import Problem, ProblemError
from credreg.chain.eip712 import HEX32
from credreg.documents.merkle import MerkleTree, to_bytes32
from credreg.registry import BlockHead, CredentialState, Registry, TargetState, Verdict
from credreg.service import EventIndex, Outbox
from credreg.service.index import EventQuery
from credreg.verify import VerificationReport, verify_documents

router = APIRouter(prefix="/v1", tags=["employers"])

Document = dict[str, Any]
_REPORTS = TypeAdapter(list[VerificationReport])


@router.post(
    "/verify",
    response_model=VerificationReport | list[VerificationReport],
    summary="Verify one OpenAttestation v2 document, or a list of them",
    description=(
        "A single document in gives a single report out; a list gives a list of reports in the same order. "
        "Each report has a verdict, a code (valid, tampered, not-issued, revoked, ...) and every named step."
    ),
    responses={422: {"model": Problem, "description": "Not a JSON object or list of objects, or too many."}},
)
def verify(
    registry: RegistryDep,
    settings: SettingsDep,
    body: Annotated[Document | list[Document], Body(description="A wrapped document, or a list of them.")],
) -> Response:
    if isinstance(body, list):
        if not body:
            raise ProblemError(422, "validation", "give at least one document", field="body")
        if len(body) > settings.max_batch:
            raise ProblemError(
                422, "batch-too-large", f"at most {settings.max_batch} documents per request", field="body"
            )
        reports = verify_documents(registry, body)
        return Response(_REPORTS.dump_json(reports), media_type="application/json")
    # The reports are the library's own models, already valid: letting FastAPI validate them again against
    # `response_model` and encode the result cost 0.3 ms, a seventh of a one-document request's work.
    return Response(verify_documents(registry, [body])[0].model_dump_json(), media_type="application/json")


ZERO32 = "0x" + "00" * 32
# Status changes read from the index for one look-up; a root with more is answered with the first ones.
MAX_STATUS_EVENTS = 10_000
ProofQuery = Annotated[
    str | None,
    Query(
        pattern=r"^(0x[0-9a-fA-F]{64})(,0x[0-9a-fA-F]{64}){0,31}$",
        description="The certificate's merkle proof, comma-separated (at most 32 hashes), when this service may not know its batch.",
    ),
]
RootQuery = Annotated[
    str | None, Query(pattern=HEX32, description="The batch root the certificate is under.")
]


def _credential_out(
    hash_: str,
    kind: Literal["root", "leaf"],
    root: str,
    proof: list[str],
    state: CredentialState,
    head: BlockHead,
    *,
    proof_known: bool = True,
    batch: BatchOut | None = None,
) -> CredentialOut:
    record = state.record
    # The contract names no deciding hash for a valid answer (0x00…00): nothing decided, say so with null.
    decided = state.target.lower() if state.target and int(state.target, 16) else None
    return CredentialOut(
        hash=hash_,
        kind=kind,
        root=root,
        proof=proof,
        proof_known=proof_known,
        valid=None if kind == "root" else state.verdict is Verdict.VALID,
        verdict=state.verdict.label,
        decided_by=decided,
        reason=state.reason,
        since=state.since,
        record=RecordOut(
            agency_id=record.agency_id,
            scope_id=record.scope_id,
            signer=record.signer,
            issued_at=record.issued_at,
            valid_until=record.valid_until,
        ),
        batch=batch,
        checked_at=head.timestamp,
        checked_block=head.number,
    )


def _status_changes(registry: Registry, index: EventIndex, *, root: str | None) -> dict[str, str]:
    """Target -> root of every status change the ledger's events show (under `root`, or all)."""
    query = EventQuery(names=("CredentialStatusChanged",), root=root, limit=MAX_STATUS_EVENTS)
    targets: dict[str, str] = {}
    for event in index.events(query):
        args = event.args_dict()
        targets[str(args["target"]).lower()] = str(args["root"]).lower()
    return targets


def _batch(registry: Registry, outbox: Outbox, index: EventIndex, root: str) -> BatchOut:
    leaves = set(outbox.leaves_of(root))
    changes = []
    for target in _status_changes(registry, index, root=root):
        status = registry.status_of(target)
        if status.state is TargetState.NONE:
            continue  # reinstated since
        changes.append(
            StatusChangeOut(
                target=target,
                state="revoked" if status.state is TargetState.REVOKED else "suspended",
                reason=status.reason,
                since=status.since,
                known_leaf=target in leaves,
            )
        )
    return BatchOut(leaves_known=len(leaves) or None, status_changes=changes)


def _proof_in(outbox: Outbox, root: str, leaf: str) -> list[str] | None:
    leaves = outbox.leaves_of(root)
    if leaf not in leaves:
        return None
    tree = MerkleTree(to_bytes32(x) for x in leaves)
    return ["0x" + p.hex() for p in tree.proof(to_bytes32(leaf))]


def _by_own_status(
    registry: Registry, index: EventIndex, leaf: str, root: str | None
) -> CredentialOut | None:
    """A certificate whose own hash was revoked or suspended: the ledger's event names its batch (the contract
    checked the proof when the status was set), so it is answered without knowing the batch."""
    status = registry.status_of(leaf)
    if status.state is TargetState.NONE:
        return None
    found = _status_changes(registry, index, root=root).get(leaf)
    if found is None:
        return None
    verdict = Verdict.LEAF_REVOKED if status.state is TargetState.REVOKED else Verdict.LEAF_SUSPENDED
    head, (batch_state,) = registry.statuses_at_head([(found, found, [])])
    state = CredentialState(verdict, leaf, status.reason, status.since, batch_state.record)
    if batch_state.verdict in (Verdict.ROOT_REVOKED, Verdict.AGENCY_REVOKED, Verdict.SIGNER_COMPROMISED):
        state = batch_state  # weightier than anything said of the certificate alone
    return _credential_out(leaf, "leaf", found, [], state, head, proof_known=False)


def _leaf_out(registry: Registry, root: str, leaf: str, proof: list[str]) -> CredentialOut:
    head, (state,) = registry.statuses_at_head([(root, leaf, proof)])
    return _credential_out(leaf, "leaf", root, proof, state, head)


@router.get(
    "/credentials/{hash}",
    response_model=CredentialOut,
    summary="The ledger status of a batch root, or of a certificate's target hash",
    description=(
        "A batch root is answered with its record, the batch-wide verdict and the certificates under it that "
        "are revoked or suspended (from the ledger's events); `valid` is null, since a batch is not a "
        "certificate. A certificate's target hash is answered when its batch is known: from `root` and "
        "`proof`, from the leaves of a batch relayed through this service, or from the certificate's own "
        "revocation or suspension. The ledger holds batch roots, not certificates: any other hash is a 404 "
        "`unknown-hash`, which does not mean the certificate was not issued; verify its file instead."
    ),
    responses={404: {"model": Problem, "description": "Not a root, and in no batch known here."}},
)
def credential(
    registry: RegistryDep,
    outbox: OutboxDep,
    index: IndexDep,
    hash: Annotated[str, Path(pattern=HEX32)],
    root: RootQuery = None,
    proof: ProofQuery = None,
) -> CredentialOut:
    wanted = hash.lower()
    if root is not None and root.lower() != wanted:
        under = root.lower()
        if proof is not None:
            return _leaf_out(registry, under, wanted, [p.lower() for p in proof.split(",")])
        known = _proof_in(outbox, under, wanted)
        if known is not None:
            return _leaf_out(registry, under, wanted, known)
        answer = _by_own_status(registry, index, wanted, under)
        if answer is not None:
            return answer
        raise ProblemError(
            404,
            "unknown-hash",
            f"this service does not know the certificates of batch {under}, so {wanted} cannot be checked "
            "under it without its proof; verify the certificate file instead",
            field="hash",
        )
    head, (batch_state,) = registry.statuses_at_head([(wanted, wanted, [])])
    if batch_state.record.issued:
        batch = _batch(registry, outbox, index, wanted)
        return _credential_out(wanted, "root", wanted, [], batch_state, head, batch=batch)
    for known_root in outbox.roots_of_leaf(wanted):
        if not registry.record(known_root).issued:
            continue
        return _leaf_out(registry, known_root, wanted, _proof_in(outbox, known_root, wanted) or [])
    answer = _by_own_status(registry, index, wanted, None)
    if answer is not None:
        return answer
    waiting = outbox.open_issuance_for(wanted)
    why = f" Issuance {waiting} for it is not confirmed yet." if waiting else ""
    raise ProblemError(
        404,
        "unknown-hash",
        f"{wanted} is not a batch root on the ledger, and no batch known to this service contains it. The "
        "ledger records batches, not single certificates, so a certificate's own hash can only be looked up "
        "when its batch is known here; this does not mean it was not issued. Verify the certificate file "
        f"instead (POST /v1/verify).{why}",
        field="hash",
    )


def verification_reference(root: str, leaf: str, proof: list[str]) -> str:
    """root, leaf and proof as one short URL-safe string: their bytes, concatenated, in unpadded base64url."""
    raw = b"".join(to_bytes32(h) for h in (root, leaf, *proof))
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@router.get(
    "/qr/verify.svg",
    summary="A QR code that opens this registry's page on one certificate's verification",
    description=(
        "The code holds `<this service>/?v=<reference>`: the root, the leaf and, unless this service knows the "
        "batch's leaves (then it finds the proof itself), the proof, as unpadded base64url of their bytes."
    ),
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}},
)
def verification_qr(
    request: Request,
    outbox: OutboxDep,
    root: Annotated[str, Query(pattern=HEX32)],
    leaf: Annotated[str, Query(pattern=HEX32)],
    proof: ProofQuery = None,
) -> Response:
    root, leaf = root.lower(), leaf.lower()
    given = [p.lower() for p in proof.split(",")] if proof else []
    # A shorter payload makes a coarser, easier-to-scan code; the service can find the proof itself.
    needed = [] if leaf == root or _proof_in(outbox, root, leaf) is not None else given
    link = f"{request.base_url}?v={verification_reference(root, leaf, needed)}"
    svg = io.BytesIO()
    # A standalone SVG (with its namespace) so that an <img> shows it; the quiet zone of 4 modules is the
    # standard's minimum for scanning.
    segno.make_qr(link, error="m").save(svg, kind="svg", scale=4, border=4, xmldecl=False)
    return Response(svg.getvalue(), media_type="image/svg+xml", headers={"X-Link": link})
