"""The HTTP application: `create_app(settings)` wires the service, the routers, the problem handlers, the
offline API docs and the web page."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from credreg import __version__
from credreg.api import docs, problems
from credreg.api.limits import BodyLimit
from credreg.api.routes import agencies, employers, events, health, labels, registry, status, uploads
from credreg.chain.redact import install_log_redaction
from credreg.config import Settings
from credreg.service import Service

log = logging.getLogger(__name__)

TITLE = "credreg"
DESCRIPTION = (
    "A permissioned-ledger registry of skill credentials. Agencies hand in signed issuances and status "
    "changes (the service relays them to the ledger exactly once); employers verify certificates; "
    "auditors read the ledger's events. Every error is an RFC 9457 problem (application/problem+json)."
)


def static_dir() -> Path:
    return Path(str(resources.files("credreg.api").joinpath("static")))


def create_app(settings: Settings | None = None, *, service: Service | None = None) -> FastAPI:
    """The credreg HTTP API over `service` (default: one built from `settings`), started with the app."""
    install_log_redaction()
    settings = settings or Settings()
    service = service or Service(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service.start()
        log.info(
            "credreg service for registry %s on chain %d",
            service.registry.address,
            service.registry.domain.chain_id,
        )
        try:
            yield
        finally:
            service.stop()

    app = FastAPI(
        title=TITLE,
        version=__version__,
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.service = service
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    problems.install(app)
    for module in (health, registry, labels, agencies, uploads, employers, events, status):
        app.include_router(module.router)
    app.include_router(uploads.leaves_router)
    docs.install(app, TITLE)
    page = static_dir()
    if page.is_dir():
        # Last, so every API route above wins; the page's files answer everything else.
        app.mount("/", StaticFiles(directory=page, html=True), name="page")
    return app
