"""For relying parties and auditors: the Bitstring Status Lists rebuilt from the ledger, and where each
certificate is in them (docs/interop.md)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from credreg.api.deps import ServiceDep, SettingsDep
from credreg.api.problems import Problem, ProblemError
from credreg.chain.eip712 import HEX32
from credreg.config import Settings
from credreg.errors import ChainUnreachable, ConfigError, KeystoreError
from credreg.service import Service
from credreg.service.statuslists import PublishedLists, StatusListPublisher
from credreg.vc.ledger import RegistryResolver
from credreg.vc.statuslist import LIST_SIZE, STATUS_PURPOSES

router = APIRouter(prefix="/v1/status", tags=["relying parties"])

VC_MEDIA_TYPE = "application/vc"
AS_OF_HEADER = "X-Credreg-As-Of-Block"


def status_base_url(request: Request, settings: Settings) -> str:
    """Where the lists are published: the configured public URL, else this service's own address."""
    return (settings.status_list_base_url or f"{str(request.base_url).rstrip('/')}/v1/status").rstrip("/")


def _lists(service: Service) -> PublishedLists:
    return _lists_publisher(service).lists()


class BatchPositions(BaseModel):
    agency_id: int
    root: str
    first_position: int = Field(description="The position of the batch's first leaf (merkle tree order).")
    leaves: list[str] = Field(
        description="The batch's leaves in merkle tree order: leaf n is at first_position + n."
    )


class UnknownBatch(BaseModel):
    agency_id: int
    root: str


class StatusBatches(BaseModel):
    as_of_block: int
    base_url: str = Field(
        description="The lists are at {base_url}/revocation/{page} and …/suspension/{page}."
    )
    list_size: int = LIST_SIZE
    operator_key: str = Field(description="The did:key the lists are signed with.")
    batches: list[BatchPositions]
    without_positions: list[UnknownBatch] = Field(
        description="Batches on the ledger whose leaves this service was not given: they have no positions."
    )


class Position(BaseModel):
    agency_id: int
    root: str
    leaf: str
    position: int
    page: int
    index: int
    base_url: str
    as_of_block: int


LEAVES_PER_CHUNK = 4096  # leaves written to the body at a time: about 280 KB of JSON


def _json(value: Any) -> str:
    # As FastAPI's JSONResponse renders a body, so the streamed one is byte for byte what it would be.
    return json.dumps(value, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":"))


def batches_body(
    head: Mapping[str, Any],
    batches: Iterable[tuple[int, str, int, Sequence[bytes]]],
    without_positions: list[dict[str, Any]],
    chunk: int = LEAVES_PER_CHUNK,
) -> Iterator[bytes]:
    """The JSON of `StatusBatches`, in pieces: `head` (its fields before `batches`), each batch
    (agency id, root, first position, leaves in tree order) `chunk` leaves at a time, then
    `without_positions`. The closing brace comes last, so a body cut short is never valid JSON."""
    yield (_json({**head, "batches": []})[:-3] + "[").encode()
    for n, (agency_id, root, first, leaves) in enumerate(batches):
        start = _json({"agency_id": agency_id, "root": root, "first_position": first, "leaves": []})
        yield (("," if n else "") + start[:-2]).encode()
        for at in range(0, len(leaves), chunk):
            piece = ",".join('"0x' + leaf.hex() + '"' for leaf in leaves[at : at + chunk])
            yield (("," if at else "") + piece).encode()
        yield b"]}"
    yield ("]," + _json({"without_positions": without_positions})[1:]).encode()


@router.get(
    "/batches",
    summary="Every batch's leaves and first position, as the lists are built from them",
    response_class=StreamingResponse,
    responses={200: {"model": StatusBatches, "description": "Successful Response"}},
)
def batches(
    request: Request,
    service: ServiceDep,
    settings: SettingsDep,
    agency: Annotated[int | None, Query(ge=1, lt=2**32, description="Only this agency's batches.")] = None,
    root: Annotated[str | None, Query(pattern=HEX32, description="Only the batch with this root.")] = None,
) -> StreamingResponse:
    # Streamed from the lists' own trees (their leaves held packed, 32 bytes each) a chunk of leaves at a
    # time: the answer takes the service a chunk's worth of memory whatever the batches' size, and it is of
    # the one set of lists taken before the first byte, so the positions are those the lists use.
    current = _lists(service)
    chosen = []
    offset = 0
    for batch in current.ledger.batches:
        wanted = (agency is None or batch.agency_id == agency) and (
            root is None or batch.root.lower() == root.lower()
        )
        if wanted:
            chosen.append((batch.agency_id, batch.root.lower(), offset, batch.tree.leaves))
        offset += len(batch.tree)
    head = {
        "as_of_block": current.block,
        "base_url": status_base_url(request, settings),
        "list_size": LIST_SIZE,
        "operator_key": service.status_lists.key.did,
    }
    unknown = [{"agency_id": a, "root": r} for a, r in current.unknown]
    return StreamingResponse(batches_body(head, chosen, unknown), media_type="application/json")


@router.get(
    "/position",
    response_model=Position,
    summary="A certificate's status list position",
    responses={
        404: {"model": Problem, "description": "The batch has no positions, or the leaf is not in it."}
    },
)
def position(
    request: Request,
    service: ServiceDep,
    settings: SettingsDep,
    agency: Annotated[int, Query(ge=1, lt=2**32)],
    root: Annotated[str, Query(pattern=HEX32)],
    leaf: Annotated[str, Query(pattern=HEX32)],
) -> Position:
    current = _lists(service)
    first = current.ledger.first_position(agency, root)
    batch = next(
        (b for b in current.ledger.batches if b.agency_id == agency and b.root.lower() == root.lower()), None
    )
    wanted = bytes.fromhex(leaf[2:])
    if first is None or batch is None or wanted not in batch.tree.leaves:
        raise ProblemError(
            404,
            "no-position",
            f"batch {root.lower()} of agency {agency} has no status list positions here (this service was not "
            "given its leaves, or it is not on the ledger yet)"
            if first is None
            else f"{leaf.lower()} is not a leaf of batch {root.lower()}",
            field="leaf" if first is not None else "root",
        )
    at = first + batch.tree.leaves.index(wanted)
    return Position(
        agency_id=agency,
        root=root.lower(),
        leaf=leaf.lower(),
        position=at,
        page=at // LIST_SIZE,
        index=at % LIST_SIZE,
        base_url=status_base_url(request, settings),
        as_of_block=current.block,
    )


@router.get(
    "/{purpose}/{page}",
    summary="A BitstringStatusListCredential (revocation or suspension), signed by the operator",
    description=(
        "Rebuilt from the ledger's events and the leaves of the batches relayed through this service. "
        f"`{AS_OF_HEADER}` names the last block it reflects; `ETag` changes only when the list does."
    ),
    response_class=Response,
    responses={
        200: {"content": {VC_MEDIA_TYPE: {}}},
        304: {"description": "Unchanged since the ETag given in If-None-Match."},
        404: {"model": Problem, "description": "No such page."},
    },
)
def status_list(
    request: Request,
    service: ServiceDep,
    settings: SettingsDep,
    purpose: Literal["revocation", "suspension"],
    page: Annotated[int, Path(ge=0, lt=2**31)],
) -> Response:
    _lists(service)
    found = service.status_lists.credential(status_base_url(request, settings), purpose, page)
    if found is None:
        raise ProblemError(404, "not-found", f"there is no page {page} of the {purpose} list", field="page")
    published, block = found
    headers = {
        "ETag": published.etag,
        "Cache-Control": f"public, max-age={settings.status_list_max_age}",
        AS_OF_HEADER: str(block),
    }
    if published.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(published.body, media_type=VC_MEDIA_TYPE, headers=headers)


def local_resolver(request: Request, service: Service, settings: Settings) -> RegistryResolver:
    """A resolver for verifying VCs here: the service's registry, and its own lists read in process (it
    fetches no other URL, so a credential cannot make the service call out)."""
    base = status_base_url(request, settings) + "/"
    publisher = _lists_publisher(service)

    def own_list(url: str) -> Mapping[str, Any]:
        purpose, _, page = url.removeprefix(base).partition("/")
        if not url.startswith(base) or purpose not in STATUS_PURPOSES or not page.isdigit():
            raise ChainUnreachable(
                f"{url} is not a status list of this service ({base}…); it reads only its own"
            )
        found = publisher.credential(base.rstrip("/"), purpose, int(page))
        if found is None:
            raise ChainUnreachable(f"there is no status list at {url}")
        return found[0].credential

    return RegistryResolver(service.registry, [publisher.key.public_key_hex], status_list=own_list)


def _lists_publisher(service: Service) -> StatusListPublisher:
    try:
        return service.status_lists
    except (ConfigError, KeystoreError) as error:
        raise ProblemError(503, "status-lists-unavailable", str(error)) from None
