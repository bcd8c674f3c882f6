"""For agencies: a batch's leaves in parts, for batches too large for `POST /v1/batches` (a national batch of
1,000,000 certificates). The service holds one part at a time; the leaves are served only once every part is
in and they make the signed hash and the batch's root (`credreg.service.uploads`)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query, Response

from credreg.api.deps import OutboxDep, UploadsDep
from credreg.api.models import BatchLeavesPage, BatchUploadIn, BatchUploadOut, UploadPartIn, iso_ms
from credreg.api.problems import Problem, ProblemError
from credreg.chain.eip712 import HEX32
from credreg.service.batches import leaf_count, leaves_page
from credreg.service.uploads import UploadState

router = APIRouter(prefix="/v1/batches/uploads", tags=["agencies"])
leaves_router = APIRouter(prefix="/v1/batches", tags=["agencies"])
MAX_PAGE = 10_000

UploadId = Annotated[UUID, Path(description="The id `POST /v1/batches/uploads` answered with.")]
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "No such open or listed upload (it may have expired)."}
}


def upload_out(state: UploadState, response: Response | None = None) -> BatchUploadOut:
    location = f"/v1/batches/uploads/{state.id}"
    if response is not None:
        response.headers["Location"] = location
    return BatchUploadOut(
        id=state.id,
        status="listed" if state.status == "listed" else "open",
        agency_id=state.agency_id,
        root=state.root,
        count=state.count,
        part_leaves=state.part_leaves,
        parts_total=state.parts_total,
        parts=state.parts,
        received=state.received,
        next_part=state.next_part,
        location=location,
        expires_at=iso_ms(state.expires_ms),
        added=state.added,
        repeated=state.repeated,
    )


@router.post(
    "",
    status_code=201,
    response_model=BatchUploadOut,
    summary="Start sending a large batch's leaves in parts (or find the upload already started)",
    description=(
        "The signed `BatchLeaves` request of POST /v1/batches without its leaves, and their count. Checked as "
        "POST /v1/batches checks it (the signer is a key of the agency, the root is recorded in its namespace). "
        "Then PUT each part in turn to `{location}/parts/{n}`, n from 1, `part_leaves` leaves each (the last "
        "holds the rest), and POST `{location}/complete`. Sending the same start again answers 200 with the "
        "same upload and the parts it has acknowledged: resume from `next_part`."
    ),
    responses={
        200: {"model": BatchUploadOut, "description": "The same upload, started before."},
        409: {"model": Problem, "description": "The agency has too many open uploads."},
        413: {"model": Problem, "description": "More leaves than this service takes in one upload."},
        422: {"model": Problem, "description": "Not that agency's key, or not its root."},
        503: {"model": Problem, "description": "The ledger cannot be reached to check the upload."},
    },
)
def start_upload(body: BatchUploadIn, uploads: UploadsDep, response: Response) -> BatchUploadOut:
    state = uploads.open_upload(body.chain_id, body.registry, body.request, body.signature, body.count)
    if state.repeated:
        response.status_code = 200
    return upload_out(state, response)


@router.get(
    "/{upload_id}",
    response_model=BatchUploadOut,
    summary="Where an upload stands: the parts acknowledged, the next part to send",
    responses=NOT_FOUND,
)
def get_upload(upload_id: UploadId, uploads: UploadsDep) -> BatchUploadOut:
    return upload_out(uploads.state(str(upload_id)))


@router.put(
    "/{upload_id}/parts/{part}",
    response_model=BatchUploadOut,
    summary="Send part n of an upload's leaves",
    description=(
        "Parts go in order: part n is taken when parts 1 to n-1 are acknowledged; a part acknowledged already "
        "may be sent again (it is compared with the one kept). Each leaf is a 0x-hex bytes32 not sent before in "
        "the upload. A part is kept whole or not at all."
    ),
    responses={
        **NOT_FOUND,
        409: {"model": Problem, "description": "Out of order, or not the leaves kept for this part."},
        413: {"model": Problem, "description": "More leaves than the part holds."},
        422: {"model": Problem, "description": "A leaf is not a bytes32, or was sent before in this upload."},
    },
)
def put_part(
    upload_id: UploadId,
    part: Annotated[int, Path(ge=1, le=1_000_000, description="The part's number, from 1.")],
    body: UploadPartIn,
    uploads: UploadsDep,
) -> BatchUploadOut:
    return upload_out(uploads.put_part(str(upload_id), part, body.leaves))


@router.post(
    "/{upload_id}/complete",
    response_model=BatchUploadOut,
    summary="Check the whole upload and serve its leaves",
    description=(
        "Every part must be in; the leaves must hash, in the order sent, to the signed `leaves_hash`, and build "
        "the batch's merkle root. Then, at once, GET /v1/credentials/{leaf} answers for each of them. Leaves "
        "that do not make the hash or the root discard the upload."
    ),
    responses={
        **NOT_FOUND,
        422: {"model": Problem, "description": "Parts missing, or not the leaves signed for or of the root."},
    },
)
def complete_upload(upload_id: UploadId, uploads: UploadsDep) -> BatchUploadOut:
    return upload_out(uploads.complete(str(upload_id)))


@router.delete(
    "/{upload_id}",
    status_code=204,
    summary="Discard an open upload and the leaves it kept",
    responses=NOT_FOUND,
)
def discard_upload(upload_id: UploadId, uploads: UploadsDep) -> Response:
    uploads.discard(str(upload_id))
    return Response(status_code=204)


@leaves_router.get(
    "/{agency_id}/{root}/leaves",
    response_model=BatchLeavesPage,
    summary="The leaves of a batch this service knows, a page at a time, in merkle tree order",
    description=(
        "Leaves of a batch relayed or uploaded here, ascending, read a page at a time whatever the batch's "
        "size; pass `next_after` as `after` for the next page. A certificate's proof is at "
        "GET /v1/credentials/{leaf}."
    ),
    responses={404: {"model": Problem, "description": "The service knows no leaves of this batch."}},
)
def get_batch_leaves(
    outbox: OutboxDep,
    agency_id: Annotated[int, Path(ge=1, lt=2**32)],
    root: Annotated[str, Path(pattern=HEX32)],
    after: Annotated[
        str | None, Query(pattern=HEX32, description="The last leaf of the previous page.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1_000,
) -> BatchLeavesPage:
    count = leaf_count(outbox.db, agency_id, root)
    if not count:
        raise ProblemError(
            404, "not-found", f"this service knows no leaves of batch {root.lower()} of agency {agency_id}",
            field="root",
        )  # fmt: skip
    page = leaves_page(outbox.db, agency_id, root, after, limit)
    return BatchLeavesPage(
        agency_id=agency_id,
        root=root.lower(),
        count=count,
        leaves=page,
        next_after=page[-1] if len(page) == limit else None,
    )
