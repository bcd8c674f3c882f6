"""What routes depend on, as `Annotated` aliases: `def route(registry: RegistryDep) -> ...`."""

from __future__ import annotations

import contextlib
from typing import Annotated

from fastapi import Depends, Request

from credreg.config import Settings
from credreg.errors import ChainUnreachable
from credreg.registry import Registry
from credreg.service import EventIndex, Outbox, Service


def get_service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def get_settings(request: Request) -> Settings:
    return get_service(request).settings


def get_registry(request: Request) -> Registry:
    """The registry, once the ledger is known to hold it in the version this code reads (else a 503)."""
    return _checked(request).registry


def get_outbox(request: Request) -> Outbox:
    return _checked(request).outbox


def get_index(request: Request) -> EventIndex:
    return _checked(request).index


def _checked(request: Request) -> Service:
    """The service, refusing (503 `chain-mismatch`) while the ledger is known not to hold the manifest's
    registry in this contract version. A ledger that does not answer yet is let through: the route's own
    reads then fail as unreachable and say so, as they always have."""
    service = get_service(request)
    with contextlib.suppress(ChainUnreachable):
        service.ensure_deployment()
    return service


ServiceDep = Annotated[Service, Depends(get_service)]
#: The service once the ledger is known to hold its registry (routes that read the ledger through it).
CheckedServiceDep = Annotated[Service, Depends(_checked)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
RegistryDep = Annotated[Registry, Depends(get_registry)]
OutboxDep = Annotated[Outbox, Depends(get_outbox)]
IndexDep = Annotated[EventIndex, Depends(get_index)]
