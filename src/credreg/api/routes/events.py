"""For auditors: the ledger's events in order, from the service's index, filtered and paginated."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, Query

from credreg.api.deps import CheckedServiceDep, IndexDep, RegistryDep
from credreg.api.models import EventOut, EventPage
from credreg.api.problems import Problem, ProblemError
from credreg.audit import AuditReport, build_report, checkpoint_path
from credreg.chain.eip712 import HEX32
from credreg.errors import ConfigError
from credreg.service.db import LedgerEventRow
from credreg.service.index import EventQuery

router = APIRouter(prefix="/v1/audit", tags=["auditors"])

UINT32_MAX = 2**32 - 1
BLOCK_MAX = 2**63 - 1


def event_out(row: LedgerEventRow) -> EventOut:
    return EventOut.of(row.to_event())


def encode_cursor(row: LedgerEventRow) -> str:
    return base64.urlsafe_b64encode(f"{row.block_number}:{row.log_index}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, int]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        block, log_index = (int(part) for part in text.split(":"))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ProblemError(
            422,
            "validation",
            "not a cursor this service gave out; pass next_cursor as it came",
            field="cursor",
        ) from None
    if not (0 <= block <= BLOCK_MAX and 0 <= log_index <= UINT32_MAX):
        raise ProblemError(422, "validation", "the cursor points outside the ledger", field="cursor")
    return block, log_index


@router.get(
    "/events",
    response_model=EventPage,
    summary="Ledger events in order, filtered by type, agency, root and block range",
)
def audit_events(
    registry: RegistryDep,
    index: IndexDep,
    event_type: Annotated[
        list[str] | None,
        Query(
            alias="type",
            description="Event names (repeat for several), e.g. CredentialIssued.",
            max_length=32,
        ),
    ] = None,
    agency_id: Annotated[int | None, Query(ge=0, le=UINT32_MAX)] = None,
    root: Annotated[str | None, Query(pattern=HEX32)] = None,
    from_block: Annotated[int | None, Query(ge=0, le=BLOCK_MAX)] = None,
    to_block: Annotated[int | None, Query(ge=0, le=BLOCK_MAX)] = None,
    cursor: Annotated[
        str | None, Query(max_length=64, description="next_cursor of the previous page.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> EventPage:
    names = list(dict.fromkeys(event_type or []))
    known = set(registry.events.names)
    for name in names:
        if name not in known:
            raise ProblemError(
                422,
                "validation",
                f"unknown event type {name!r}; known: {', '.join(sorted(known))}",
                field="type",
            )
    after = decode_cursor(cursor) if cursor else None
    rows = index.events(
        EventQuery(
            names=names,
            agency_id=agency_id,
            root=root,
            from_block=from_block,
            to_block=to_block,
            after=after,
            limit=limit + 1,
        )
    )
    page, more = rows[:limit], len(rows) > limit
    return EventPage(
        events=[event_out(r) for r in page],
        next_cursor=encode_cursor(page[-1]) if more and page else None,
        indexed_to=index.indexed_to(),
    )


@router.get(
    "/report",
    response_model=AuditReport,
    summary="Replay the ledger from the deployment block, check every rule, and report with a digest",
    description=(
        "The same report as `credreg audit replay --json`: findings first, the digest two auditors compare, "
        "counts per agency and scope, and a timeline. Replays resume from a checkpoint under the data "
        "directory, so asking again only reads the new blocks."
    ),
    responses={
        422: {"model": Problem, "description": "The block is before the deployment or not mined yet."}
    },
)
def audit_report(
    service: CheckedServiceDep,
    at_block: Annotated[
        int | None, Query(ge=0, le=BLOCK_MAX, description="Report the state as it stood at this block.")
    ] = None,
) -> AuditReport:
    registry = service.registry
    with service.audit_lock:  # one replay at a time: they share the checkpoint file
        try:
            return build_report(
                registry,
                at_block=at_block,
                confirmations=service.settings.confirmations,
                checkpoint=checkpoint_path(service.settings.data_dir, registry),
                resume=True,
                recompile=False,
            )
        except ConfigError as exc:
            raise ProblemError(422, "validation", str(exc), field="at_block") from exc
