"""For agencies: hand in signed issuances and status changes; the service relays them to the ledger.

Each POST answers 202 once the request is durably stored; the same signed request sent again answers with
the same id. Follow it with GET until it is `confirmed` (transaction hash and block) or `failed` (the
contract's reason).
"""

from __future__ import annotations

import json
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Path, Response

from credreg.api.deps import OutboxDep, SettingsDep
from credreg.api.examples import ISSUANCE_HOWTO, issuance_example
from credreg.api.models import (
    Accepted,
    BatchLeavesIn,
    BatchListedOut,
    IssuanceIn,
    RequestError,
    RequestOut,
    StatusChangeIn,
    iso_ms,
)
from credreg.api.problems import Problem, ProblemError
from credreg.registry import SignedBatchLeaves, SignedIssue, SignedStatusChange
from credreg.service.batches import list_batch
from credreg.service.db import OutboxRow
from credreg.service.store import ISSUE, STATUS_CHANGE

router = APIRouter(prefix="/v1", tags=["agencies"])

PROBLEMS: dict[int | str, dict[str, object]] = {
    409: {"model": Problem, "description": "Conflicts with the ledger or with a request already accepted."},
    422: {"model": Problem, "description": "Invalid, or refused by the registry contract (see type)."},
    429: {
        "model": Problem,
        "description": "The signing agency's rate limit or daily relaying quota is used up; see Retry-After.",
    },
    503: {"model": Problem, "description": "The ledger cannot be reached to check the request."},
}


def _accepted(row: OutboxRow, created: bool, path: str, response: Response) -> Accepted:
    location = f"/v1/{path}/{row.id}"
    response.headers["Location"] = location
    return Accepted(id=row.id, kind=row.kind, status=row.status, location=location, repeated=not created)


def request_out(row: OutboxRow) -> RequestOut:
    error = None
    if row.error_name is not None:
        error = RequestError(
            name=row.error_name,
            message=row.error_message or row.error_name,
            args=json.loads(row.error_args) if row.error_args else None,
        )
    return RequestOut(
        id=row.id,
        kind=row.kind,
        status=row.status,
        root=row.root,
        target=row.target,
        action=row.action,
        nonce=row.nonce,
        signer=row.signer,
        agency_id=row.agency_id,
        tx_hash=row.tx_hash,
        block_number=row.block_number if row.status == "confirmed" else None,
        block_hash=row.block_hash if row.status == "confirmed" else None,
        error=error,
        attempts=row.attempts,
        last_problem=row.last_problem,
        created_at=iso_ms(row.created_ms),
        updated_at=iso_ms(row.updated_ms),
        submitted_at=iso_ms(row.submitted_ms),
        finished_at=iso_ms(row.finished_ms),
    )


def _lookup(outbox: OutboxDep, request_id: UUID, kind: str, what: str) -> RequestOut:
    row = outbox.get(str(request_id))
    if row is None or row.kind != kind:
        raise ProblemError(404, "not-found", f"no {what} request has id {request_id}", field="request_id")
    return request_out(row)


@router.post(
    "/issuances",
    status_code=202,
    response_model=Accepted,
    summary="Relay an agency-signed issuance of a merkle root",
    description=ISSUANCE_HOWTO,
    responses=PROBLEMS,
)
def post_issuance(
    body: Annotated[
        IssuanceIn,
        Body(
            openapi_examples={
                "signed": {
                    "summary": "The demo certificate's batch, signed by the demo agency's signer",
                    "value": issuance_example(),
                }
            }
        ),
    ],
    outbox: OutboxDep,
    settings: SettingsDep,
    response: Response,
) -> Accepted:
    if body.leaves is not None and len(body.leaves) > settings.max_leaves:
        raise ProblemError(
            422, "batch-too-large", f"at most {settings.max_leaves} leaves per issuance", field="leaves"
        )
    signed = SignedIssue(
        chain_id=body.chain_id, registry=body.registry, request=body.request, signature=body.signature
    )
    row, created = outbox.accept_issue(signed, body.leaves)
    return _accepted(row, created, "issuances", response)


@router.get(
    "/issuances/{request_id}",
    response_model=RequestOut,
    summary="Where an issuance stands: pending, submitted, confirmed or failed",
    responses={404: {"model": Problem, "description": "No issuance has this id."}},
)
def get_issuance(outbox: OutboxDep, request_id: Annotated[UUID, Path()]) -> RequestOut:
    return _lookup(outbox, request_id, ISSUE, "issuance")


@router.post(
    "/revocations",
    status_code=202,
    response_model=Accepted,
    summary="Relay an agency-signed revoke, suspend or reinstate",
    responses=PROBLEMS,
)
def post_revocation(body: StatusChangeIn, outbox: OutboxDep, response: Response) -> Accepted:
    signed = SignedStatusChange(
        chain_id=body.chain_id,
        registry=body.registry,
        request=body.request,
        proof=body.proof,
        signature=body.signature,
    )
    row, created = outbox.accept_status_change(signed)
    return _accepted(row, created, "revocations", response)


@router.get(
    "/revocations/{request_id}",
    response_model=RequestOut,
    summary="Where a status change stands: pending, submitted, confirmed or failed",
    responses={404: {"model": Problem, "description": "No status change has this id."}},
)
def get_revocation(outbox: OutboxDep, request_id: Annotated[UUID, Path()]) -> RequestOut:
    return _lookup(outbox, request_id, STATUS_CHANGE, "status change")


@router.post(
    "/batches",
    response_model=BatchListedOut,
    summary="List the leaves of a batch the agency issued straight to the ledger",
    description=(
        "For a batch not relayed through this service: its leaves, with an EIP-712 `BatchLeaves(uint32 "
        "agencyId,bytes32 root,bytes32 leavesHash)` signature by one of the agency's signer keys, where "
        "leavesHash is keccak256 of the leaves concatenated in the order sent. Taken only if the signer is "
        "a key of that agency, the root is recorded in its namespace and the leaves build the root; then "
        "GET /v1/credentials/{leaf} answers for each certificate. Sending the same batch again is harmless."
    ),
    responses={
        422: {
            "model": Problem,
            "description": "Not that agency's key, not its root, or not the root's leaves.",
        },
        503: {"model": Problem, "description": "The ledger cannot be reached to check the upload."},
    },
)
def post_batch(body: BatchLeavesIn, outbox: OutboxDep) -> BatchListedOut:
    upload = SignedBatchLeaves.model_validate(body.model_dump())
    listed = list_batch(outbox, upload)
    return BatchListedOut(
        agency_id=listed.agency_id, root=listed.root, leaves=listed.leaves, added=listed.added
    )
