"""What routes depend on, as `Annotated` aliases: `def route(registry: RegistryDep) -> ...`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from credreg.config import Settings
from credreg.registry import Registry
from credreg.service import EventIndex, Outbox, Service


def get_service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def get_settings(request: Request) -> Settings:
    return get_service(request).settings


def get_registry(request: Request) -> Registry:
    return get_service(request).registry


def get_outbox(request: Request) -> Outbox:
    return get_service(request).outbox


def get_index(request: Request) -> EventIndex:
    return get_service(request).index


ServiceDep = Annotated[Service, Depends(get_service)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
RegistryDep = Annotated[Registry, Depends(get_registry)]
OutboxDep = Annotated[Outbox, Depends(get_outbox)]
IndexDep = Annotated[EventIndex, Depends(get_index)]
