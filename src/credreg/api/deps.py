"""What routes depend on, as `Annotated` aliases: `def route(registry: RegistryDep) -> ...`.

They are coroutines, so FastAPI runs them on the event loop instead of sending each to a worker thread (a
sync dependency costs a thread hand-off, and a request to `POST /v1/verify` had a dozen). The only one that
may block, the first look at the deployment, runs in a thread.
"""

from __future__ import annotations

import contextlib
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from credreg.config import Settings
from credreg.errors import ChainUnreachable
from credreg.registry import LedgerReads, Registry
from credreg.service import BatchUploads, EventIndex, Outbox, Service


async def get_service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


async def get_settings(request: Request) -> Settings:
    return (await get_service(request)).settings


async def get_registry(request: Request) -> Registry:
    """The registry, once the ledger is known to hold it in the version this code reads (else a 503)."""
    return (await _checked(request)).registry


async def get_reads(request: Request) -> LedgerReads:
    """What verification reads the ledger through (the ledger cache, or the registry), checked as above."""
    return (await _checked(request)).reads


async def get_outbox(request: Request) -> Outbox:
    return (await _checked(request)).outbox


async def get_uploads(request: Request) -> BatchUploads:
    return (await _checked(request)).uploads


async def get_index(request: Request) -> EventIndex:
    return (await _checked(request)).index


async def _checked(request: Request) -> Service:
    """The service, refusing (503 `chain-mismatch`) while the ledger is known not to hold the manifest's
    registry in this contract version. A ledger that does not answer yet is let through: the route's own
    reads then fail as unreachable and say so, as they always have."""
    service = await get_service(request)
    if not service.deployment_checked:
        with contextlib.suppress(ChainUnreachable):
            await run_in_threadpool(service.ensure_deployment)
    return service


ServiceDep = Annotated[Service, Depends(get_service)]
#: The service once the ledger is known to hold its registry (routes that read the ledger through it).
CheckedServiceDep = Annotated[Service, Depends(_checked)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
RegistryDep = Annotated[Registry, Depends(get_registry)]
ReadsDep = Annotated[LedgerReads, Depends(get_reads)]
OutboxDep = Annotated[Outbox, Depends(get_outbox)]
IndexDep = Annotated[EventIndex, Depends(get_index)]
UploadsDep = Annotated[BatchUploads, Depends(get_uploads)]
