"""For employers (and anyone checking a certificate): verify documents, look up a hash's status."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Response
from pydantic import TypeAdapter

from credreg.api.deps import OutboxDep, RegistryDep, SettingsDep
from credreg.api.models import CredentialOut, RecordOut
from credreg.api.problems import Problem, ProblemError
from credreg.chain.eip712 import HEX32
from credreg.documents.merkle import MerkleTree, to_bytes32
from credreg.documents.wrap import LONE_SURROGATE_REASON, lone_surrogate_at
from credreg.registry import CredentialState, Verdict
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
        reports = verify_documents(registry, body)
        return Response(_REPORTS.dump_json(reports), media_type="application/json")
    # The reports are the library's own models, already valid: letting FastAPI validate them again against
    # `response_model` and encode the result cost 0.3 ms, a seventh of a one-document request's work.
    return Response(verify_documents(registry, [body])[0].model_dump_json(), media_type="application/json")


def _credential_out(
    hash_: str, kind: str, root: str, proof: list[str], state: CredentialState
) -> CredentialOut:
    record = state.record
    return CredentialOut(
        hash=hash_,
        kind=kind,
        root=root,
        proof=proof,
        valid=state.verdict is Verdict.VALID,
        verdict=state.verdict.label,
        decided_by=state.target,
        reason=state.reason,
        since=state.since,
        record=RecordOut(
            agency_id=record.agency_id,
            scope_id=record.scope_id,
            signer=record.signer,
            issued_at=record.issued_at,
            valid_until=record.valid_until,
        ),
    )


@router.get(
    "/credentials/{hash}",
    response_model=CredentialOut,
    summary="The ledger status of a batch root, or of a document target hash in a batch relayed here",
    description=(
        "Records live in the issuing agency's namespace. Give `agency` to ask about one agency's record; "
        "without it the hash must be known under exactly one agency, else the answer is 409 naming them."
    ),
    responses={
        404: {"model": Problem, "description": "Neither an issued root nor a leaf known here."},
        409: {"model": Problem, "description": "The hash is recorded by several agencies: pass `agency`."},
    },
)
def credential(
    registry: RegistryDep,
    outbox: OutboxDep,
    hash: Annotated[str, Path(pattern=HEX32)],
    agency: Annotated[int | None, Query(ge=1, lt=2**32, description="The issuing agency's id.")] = None,
) -> CredentialOut:
    wanted = hash.lower()
    found: list[tuple[str, int, str, list[str]]] = []  # (kind, agency, root, proof)
    roots = [agency] if agency is not None else registry.issued_by(wanted)
    found += [("root", a, wanted, []) for a in roots if registry.is_issued(a, wanted)]
    for holder, root in outbox.roots_of_leaf(wanted):
        if (agency is None or holder == agency) and root != wanted and registry.is_issued(holder, root):
            tree = MerkleTree(to_bytes32(leaf) for leaf in outbox.leaves_of(holder, root))
            found.append(("leaf", holder, root, ["0x" + p.hex() for p in tree.proof(to_bytes32(wanted))]))
    holders = sorted({a for _, a, _, _ in found})
    if len(holders) > 1:
        raise ProblemError(
            409,
            "ambiguous-hash",
            f"{wanted} is recorded by agencies {', '.join(map(str, holders))}, each in its own namespace; "
            f"ask again with ?agency=N for the certificate's own agency (its document names it)",
            field="agency",
        )
    if found:
        kind, holder, root, proof = found[0]
        return _credential_out(
            wanted, kind, root, proof, registry.credential_status(holder, root, wanted, proof)
        )
    waiting = outbox.open_issuance_for(wanted)
    why = f"; issuance {waiting} for it is not confirmed yet" if waiting else ""
    whose = f"agency {agency}'s" if agency is not None else "any agency's"
    raise ProblemError(
        404,
        "not-found",
        f"{wanted} is neither a root in {whose} namespace on the ledger nor a leaf of a batch relayed by this "
        f"service{why}",
        field="hash",
    )
