"""`credreg serve`: the HTTP API against the configured chain and deployment."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from credreg.api import create_app
from credreg.cli.common import console, state
from credreg.config import Settings


def serve(
    ctx: typer.Context,
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default $CREDREG_API_HOST).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Port to listen on (default $CREDREG_API_PORT).")
    ] = None,
) -> None:
    """Serve the API (and the web page) against the chain and deployment manifest in the settings.

    Agencies' signed requests are relayed by the account in $CREDREG_RELAYER_KEYSTORE (password in
    $CREDREG_RELAYER_PASSWORD), or on the dev chain by a well-known anvil test account.
    Example: credreg --rpc-url http://127.0.0.1:8545 serve --port 8000
    """
    settings = state(ctx).settings
    overrides = {k: v for k, v in {"api_host": host, "api_port": port}.items() if v is not None}
    run_server(settings.model_copy(update=overrides) if overrides else settings)


def run_server(settings: Settings) -> None:
    """Serve the API on settings.api_host:api_port until interrupted (also used by `credreg run`)."""
    app = create_app(settings)
    console.print(
        f"credreg API on http://{settings.api_host}:{settings.api_port} (docs at /docs), "
        f"chain {settings.effective_rpc_url}"
    )
    uvicorn.run(app, host=settings.api_host, port=settings.api_port, log_level="info", access_log=False)
