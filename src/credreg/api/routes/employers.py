"""For employers (and anyone checking a certificate): verify documents, look up a hash's status."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Response
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
    responses={404: {"model": Problem, "description": "Neither an issued root nor a leaf known here."}},
)
def credential(
    registry: RegistryDep, outbox: OutboxDep, hash: Annotated[str, Path(pattern=HEX32)]
) -> CredentialOut:
    wanted = hash.lower()
    if registry.record(wanted).issued:
        return _credential_out(wanted, "root", wanted, [], registry.credential_status(wanted, wanted, []))
    for root in outbox.roots_of_leaf(wanted):
        if not registry.record(root).issued:
            continue
        tree = MerkleTree(to_bytes32(leaf) for leaf in outbox.leaves_of(root))
        proof = ["0x" + p.hex() for p in tree.proof(to_bytes32(wanted))]
        return _credential_out(wanted, "leaf", root, proof, registry.credential_status(root, wanted, proof))
    waiting = outbox.open_issuance_for(wanted)
    why = f"; issuance {waiting} for it is not confirmed yet" if waiting else ""
    raise ProblemError(
        404,
        "not-found",
        f"{wanted} is neither a root on the ledger nor a leaf of a batch relayed by this service{why}",
        field="hash",
    )
