"""For employers (and anyone checking a certificate): verify documents, look up a hash's status."""

from __future__ import annotations

import base64
import io
from typing import Annotated, Any, Literal

import segno
from fastapi import APIRouter, Body, Path, Query, Request, Response
from pydantic import TypeAdapter
from starlette.concurrency import run_in_threadpool

from credreg.api.deps import IndexDep, OutboxDep, ReadsDep, RegistryDep, ServiceDep, SettingsDep
from credreg.api.examples import certificate_example
from credreg.api.models import BatchOut, CredentialOut, RecordOut, StatusChangeOut
from credreg.api.problems import Problem, ProblemError
from credreg.api.routes.status import local_resolver
from credreg.chain.eip712 import HEX32
from credreg.config import Settings
from credreg.documents.wrap import LONE_SURROGATE_REASON, lone_surrogate_at
from credreg.hashes import hash32, hash_bytes
from credreg.registry import BlockHead, CredentialState, LedgerReads, Registry, Status, Verdict
from credreg.service import EventIndex, Outbox, Service
from credreg.service.batches import has_leaf, leaf_count, proof_of
from credreg.service.index import EventQuery
from credreg.service.ledgercache import NotInMemory
from credreg.vc.verify import verify_credential
from credreg.verify import VerificationReport, verify_documents

router = APIRouter(prefix="/v1", tags=["employers"])

Document = dict[str, Any]
_REPORTS = TypeAdapter(list[VerificationReport])


@router.post(
    "/verify",
    response_model=VerificationReport | list[VerificationReport],
    summary="Verify a certificate (OpenAttestation v2, VC 2.0 or SD-JWT VC), or a list of them",
    description=(
        "A single document in gives a single report out; a list gives a list of reports in the same order. "
        "Each report has a verdict, a code (valid, tampered, not-issued, revoked, ...) and every named step."
    ),
    responses={422: {"model": Problem, "description": "Not a JSON object or list of objects, or too many."}},
)
async def verify(
    request: Request,
    service: ServiceDep,
    reads: ReadsDep,
    settings: SettingsDep,
    body: Annotated[
        Document | str | list[Document | str],
        Body(
            description="A wrapped OpenAttestation document, a W3C VC 2.0 (a JSON object with `@context`), an "
            "SD-JWT VC (its compact text as a JSON string), or a list of them.",
            openapi_examples={
                "certificate": {
                    "summary": "A certificate as issued (the demo session's first)",
                    "description": "Issued on a fresh dev chain by `credreg run`; elsewhere it is not issued.",
                    "value": certificate_example(),
                }
            },
        ),
    ],
) -> Response:
    # Refused here, as bad input: a report could not quote the field back in JSON.
    surrogate = lone_surrogate_at(body)
    if surrogate is not None:
        raise ProblemError(422, "validation", LONE_SURROGATE_REASON, field=surrogate)
    if isinstance(body, list):
        if not body:
            raise ProblemError(422, "validation", "give at least one document", field="body")
        if len(body) > settings.max_batch:
            raise ProblemError(
                422, "batch-too-large", f"at most {settings.max_batch} documents per request", field="body"
            )
        reports = await run_in_threadpool(_verify_any, request, service, reads, settings, body)
        return Response(_REPORTS.dump_json(reports), media_type="application/json")
    report = _from_memory(service, body)
    if report is None:
        report = (await run_in_threadpool(_verify_any, request, service, reads, settings, [body]))[0]
    # The reports are the library's own models, already valid: letting FastAPI validate them again against
    # `response_model` and encode the result cost 0.3 ms, a seventh of a one-document request's work.
    return Response(report.model_dump_json(), media_type="application/json")


def _from_memory(service: Service, item: Document | str) -> VerificationReport | None:
    """One OpenAttestation document verified right on the event loop, when the ledger cache holds every
    answer it needs; None when something must be read (then a worker thread verifies it, as a list is). The
    thread hand-off cost about 120 µs of CPU, a fifth of such a request; reading the node must not hold the
    loop."""
    memory = service.ledger.in_memory() if service.ledger is not None and not _is_vc_form(item) else None
    if memory is None:
        return None
    try:
        return verify_documents(memory, [item])[0]
    except NotInMemory:
        return None


def _is_vc_form(item: Document | str) -> bool:
    """A VC 2.0 names its JSON-LD contexts; an SD-JWT VC arrives as text. Anything else is OpenAttestation."""
    return isinstance(item, str) or "@context" in item


def _verify_any(
    request: Request, service: Service, reads: LedgerReads, settings: Settings, items: list[Document | str]
) -> list[VerificationReport]:
    for n, item in enumerate(items):
        # Text is taken as an SD-JWT VC; text that is not even shaped like one is bad input, not a verdict.
        if isinstance(item, str) and ("~" not in item or item.count(".") < 2):
            where = "body" if len(items) == 1 else f"body[{n}]"
            raise ProblemError(
                422, "validation", "text is verified as an SD-JWT VC (<jwt>~<disclosure>~…~); this is not one",
                field=where,
            )  # fmt: skip
    documents = [item for item in items if not _is_vc_form(item)]
    checked = iter(verify_documents(reads, documents) if documents else [])
    resolver = local_resolver(request, service, settings) if len(documents) < len(items) else None
    return [
        verify_credential(item, resolver) if resolver is not None and _is_vc_form(item) else next(checked)
        for item in items
    ]


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
AgencyQuery = Annotated[
    int | None,
    Query(
        ge=1,
        lt=2**32,
        description="The issuing agency (the certificate names it); needed only when several agencies recorded the hash.",
    ),
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


def _status_changes(index: EventIndex, *, agency: int | None, root: str | None) -> dict[tuple[int, str], str]:
    """(agency, target) -> root of every status change the ledger's events show (of `agency` under `root`,
    or all)."""
    query = EventQuery(
        names=("CredentialStatusChanged",), agency_id=agency, root=root, limit=MAX_STATUS_EVENTS
    )
    targets: dict[tuple[int, str], str] = {}
    for event in index.events(query):
        args = event.args_dict()
        targets[(int(args["agencyId"]), str(args["target"]).lower())] = str(args["root"]).lower()
    return targets


def _batch(registry: Registry, outbox: Outbox, index: EventIndex, agency: int, root: str) -> BatchOut:
    changes = []
    for _, target in _status_changes(index, agency=agency, root=root):
        status = registry.status_of(agency, target)
        if status.status is Status.NONE:
            continue  # reinstated since
        changes.append(
            StatusChangeOut(
                target=target,
                state="revoked" if status.status is Status.REVOKED else "suspended",
                reason=status.reason,
                since=status.since,
                known_leaf=has_leaf(outbox.db, agency, root, target),
            )
        )
    return BatchOut(leaves_known=leaf_count(outbox.db, agency, root) or None, status_changes=changes)


def _proof_in(outbox: Outbox, agency: int, root: str, leaf: str) -> list[str] | None:
    # Read a chunk of the batch at a time, not the whole batch (a national one has 1,000,000 leaves).
    return proof_of(outbox.db, agency, root, leaf)


def _by_own_status(registry: Registry, agency: int, leaf: str, root: str) -> CredentialOut:
    """A certificate whose own hash its agency revoked or suspended: the ledger's event names its batch (the
    contract checked the proof when the status was set), so it is answered without knowing the batch."""
    status = registry.status_of(agency, leaf)
    verdict = Verdict.LEAF_REVOKED if status.status is Status.REVOKED else Verdict.LEAF_SUSPENDED
    head, (batch_state,) = registry.statuses([(agency, root, root, [])])
    state = CredentialState(verdict, hash32(leaf), status.reason, status.since, batch_state.record)
    if batch_state.verdict in (Verdict.ROOT_REVOKED, Verdict.AGENCY_REVOKED, Verdict.SIGNER_COMPROMISED):
        state = batch_state  # weightier than anything said of the certificate alone
    return _credential_out(leaf, "leaf", root, [], state, head, proof_known=False)


def _leaf_out(registry: Registry, agency: int, root: str, leaf: str, proof: list[str]) -> CredentialOut:
    head, (state,) = registry.statuses([(agency, root, leaf, proof)])
    return _credential_out(leaf, "leaf", root, proof, state, head)


def _one_agency(wanted: str, holders: set[int]) -> int | None:
    """The one agency a look-up is about; several agencies' records of one hash are several answers."""
    if len(holders) > 1:
        raise ProblemError(
            409,
            "ambiguous-hash",
            f"{wanted} is recorded by agencies {', '.join(map(str, sorted(holders)))}, each in its own "
            "namespace; ask again with ?agency=N for the certificate's own agency (its document names it)",
            field="agency",
        )
    return next(iter(holders), None)


@router.get(
    "/credentials/{hash}",
    response_model=CredentialOut,
    summary="The ledger status of a batch root, or of a certificate's target hash",
    description=(
        "Records live in the issuing agency's namespace; `agency` names it, and is needed only when several "
        "agencies recorded the same hash (409 `ambiguous-hash` then lists them). A batch root is answered "
        "with its record, the batch-wide verdict and the certificates under it that are revoked or suspended "
        "(from the ledger's events); `valid` is null, since a batch is not a certificate. A certificate's "
        "target hash is answered when its batch is known: from `root` and `proof`, from the leaves of a batch "
        "relayed through this service or uploaded to it (POST /v1/batches), or from the certificate's own revocation or suspension. The ledger "
        "holds batch roots, not certificates: any other hash is a 404 `unknown-hash`, which does not mean the "
        "certificate was not issued; verify its file instead."
    ),
    responses={
        404: {"model": Problem, "description": "Not a root, and in no batch known here."},
        409: {"model": Problem, "description": "Several agencies recorded the hash: pass `agency`."},
    },
)
def credential(
    registry: RegistryDep,
    outbox: OutboxDep,
    index: IndexDep,
    hash: Annotated[str, Path(pattern=HEX32)],
    root: RootQuery = None,
    proof: ProofQuery = None,
    agency: AgencyQuery = None,
) -> CredentialOut:
    wanted = hash.lower()

    def issued(h: str) -> set[int]:
        return (
            {agency}
            if agency is not None and registry.is_issued(agency, h)
            else (set() if agency is not None else set(registry.issued_by(h)))
        )

    if root is not None and root.lower() != wanted:
        under = root.lower()
        holder = _one_agency(under, issued(under))
        if holder is not None:
            if proof is not None:
                return _leaf_out(registry, holder, under, wanted, [p.lower() for p in proof.split(",")])
            known = _proof_in(outbox, holder, under, wanted)
            if known is not None:
                return _leaf_out(registry, holder, under, wanted, known)
            if (holder, wanted) in _status_changes(index, agency=holder, root=under):
                return _by_own_status(registry, holder, wanted, under)
        raise ProblemError(
            404,
            "unknown-hash",
            f"this service does not know the certificates of batch {under}, so {wanted} cannot be checked "
            "under it without its proof; verify the certificate file instead",
            field="hash",
        )
    as_root = issued(wanted)
    as_leaf = {
        a: r
        for a, r in outbox.roots_of_leaf(wanted)
        if (agency is None or a == agency) and r != wanted and registry.is_issued(a, r)
    }
    by_status = {
        a: r
        for (a, target), r in _status_changes(index, agency=agency, root=None).items()
        if target == wanted and r != wanted and registry.status_of(a, wanted).status is not Status.NONE
    }
    holder = _one_agency(wanted, as_root | set(as_leaf) | set(by_status))
    if holder in as_root:
        head, (batch_state,) = registry.statuses([(holder, wanted, wanted, [])])
        batch = _batch(registry, outbox, index, holder, wanted)
        return _credential_out(wanted, "root", wanted, [], batch_state, head, batch=batch)
    if holder in as_leaf:
        known_root = as_leaf[holder]
        return _leaf_out(
            registry, holder, known_root, wanted, _proof_in(outbox, holder, known_root, wanted) or []
        )
    if holder in by_status:
        return _by_own_status(registry, holder, wanted, by_status[holder])
    waiting = outbox.open_issuance_for(wanted)
    why = f" Issuance {waiting} for it is not confirmed yet." if waiting else ""
    raise ProblemError(
        404,
        "unknown-hash",
        f"{wanted} is not a batch root on the ledger, and no batch known to this service contains it. The "
        "ledger records batches, not single certificates, so a certificate's own hash can only be looked up "
        "when its batch is known here; this does not mean it was not issued. Verify the certificate file "
        "instead (POST /v1/verify), or ask its agency to upload the batch (credreg batch upload)."
        f"{why}",
        field="hash",
    )


def verification_reference(agency: int, root: str, leaf: str, proof: list[str]) -> str:
    """agency, root, leaf and proof as one short URL-safe string: the agency id's 4 bytes, then the hashes'
    bytes, concatenated, in unpadded base64url."""
    raw = agency.to_bytes(4, "big") + b"".join(hash_bytes(h) for h in (root, leaf, *proof))
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@router.get(
    "/qr/verify.svg",
    summary="A QR code that opens this registry's page on one certificate's verification",
    description=(
        "The code holds `<this service>/?v=<reference>`: the agency id, the root, the leaf and, unless this "
        "service knows the batch's leaves (then it finds the proof itself), the proof, as unpadded base64url "
        "of their bytes."
    ),
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}},
)
def verification_qr(
    request: Request,
    outbox: OutboxDep,
    agency: Annotated[int, Query(ge=1, lt=2**32, description="The issuing agency.")],
    root: Annotated[str, Query(pattern=HEX32)],
    leaf: Annotated[str, Query(pattern=HEX32)],
    proof: ProofQuery = None,
) -> Response:
    root, leaf = root.lower(), leaf.lower()
    given = [p.lower() for p in proof.split(",")] if proof else []
    # A shorter payload makes a coarser, easier-to-scan code; the service can find the proof itself.
    needed = [] if leaf == root or _proof_in(outbox, agency, root, leaf) is not None else given
    link = f"{request.base_url}?v={verification_reference(agency, root, leaf, needed)}"
    svg = io.BytesIO()
    # A standalone SVG (with its namespace) so that an <img> shows it; the quiet zone of 4 modules is the
    # standard's minimum for scanning.
    segno.make_qr(link, error="m").save(svg, kind="svg", scale=4, border=4, xmldecl=False)
    return Response(svg.getvalue(), media_type="image/svg+xml", headers={"X-Link": link})
