"""`credreg serve`: the HTTP API against the configured chain and deployment.

With `--workers N` (N > 1) the requests are answered by N uvicorn worker processes, so verification is not
held to one core by Python's global lock. The workers only answer requests: they relay nothing and follow no
chain. The process that starts them runs the service's background work once, the outbox relayer and the event
index follower, against the same database, from which the workers read (SQLite in WAL mode lets one writer
and many readers share the file across processes; a request accepted by a worker is in the outbox before its
202, and the relayer finds it on its next poll). Each worker keeps its own ledger cache, following the index
in the database (`credreg.service.ledgercache`).
"""

from __future__ import annotations

import contextlib
import os
import socket
from typing import TYPE_CHECKING, Annotated

import typer

from credreg.chain.redact import redact
from credreg.cli.common import console, state
from credreg.errors import ConfigError

if TYPE_CHECKING:
    from fastapi import FastAPI

    from credreg.config import Settings


# How the process that starts the workers hands them its settings, CLI options included: as JSON in their
# environment, never on a command line, since a database URL may hold a password. A relayer keystore's
# password stays in its own variable; the workers relay nothing.
WORKER_SETTINGS_ENV = "CREDREG_WORKER_SETTINGS"
MAX_WORKERS = 32


def serve(
    ctx: typer.Context,
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default $CREDREG_API_HOST).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Port to listen on (default $CREDREG_API_PORT).")
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=MAX_WORKERS,
            help="Processes answering requests (about one per core); the relaying and the event index run once.",
        ),
    ] = 1,
) -> None:
    """Serve the API (and the web page) against the chain and deployment manifest in the settings.

    Agencies' signed requests are relayed by the account in $CREDREG_RELAYER_KEYSTORE (password in
    $CREDREG_RELAYER_PASSWORD), or on the dev chain by a well-known anvil test account.
    Example: credreg --rpc-url http://127.0.0.1:8545 serve --port 8000 --workers 2
    """
    settings = state(ctx).settings
    overrides = {k: v for k, v in {"api_host": host, "api_port": port}.items() if v is not None}
    run_server(settings.model_copy(update=overrides) if overrides else settings, workers=workers)


def run_server(settings: Settings, *, workers: int = 1) -> None:
    """Serve the API on settings.api_host:api_port until interrupted (also used by `credreg run`)."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from credreg.api import create_app
    from credreg.service import Service

    _refuse_another_version(settings)
    where = f"http://{settings.api_host}:{settings.api_port}"
    if workers == 1:
        app = create_app(settings)
        console.print(f"credreg API on {where} (docs at /docs), chain {redact(settings.effective_rpc_url)}")
        uvicorn.run(app, host=settings.api_host, port=settings.api_port, log_level="info", access_log=False)
        return
    listening = _listening_socket(settings.api_host, settings.api_port)
    # It answers no requests, so it keeps no ledger cache; each worker keeps its own, following the index.
    background = Service(settings.model_copy(update={"ledger_cache": False}))
    background.start()  # creates the tables before any worker opens the database
    try:
        os.environ[WORKER_SETTINGS_ENV] = settings.model_dump_json()
        console.print(
            f"credreg API on {where} (docs at /docs), {workers} worker processes, "
            f"chain {redact(settings.effective_rpc_url)}"
        )
        config = uvicorn.Config(
            f"{__name__}:worker_app",
            factory=True,
            workers=workers,
            host=settings.api_host,
            port=settings.api_port,
            log_level="info",
            access_log=False,
        )
        with contextlib.suppress(KeyboardInterrupt):
            Multiprocess(config, sockets=[listening]).run()
    finally:
        background.stop()
        listening.close()


def _refuse_another_version(settings: Settings) -> None:
    """Never serve over a registry of another contract version: the manifest may say so, or the contract
    itself. A ledger that cannot be reached yet is checked again by the service (and /readyz says so)."""
    from credreg.chain.client import connect
    from credreg.chain.manifest import Manifest
    from credreg.errors import ChainError, WrongContractVersion
    from credreg.registry import Registry

    registry = Registry(
        connect(settings.effective_rpc_url, timeout=settings.rpc_timeout),
        Manifest.load(settings.manifest_path),
    )
    try:
        registry.check_deployment()
    except WrongContractVersion:
        raise
    except ChainError:
        pass


def _listening_socket(host: str, port: int) -> socket.socket:
    """The socket the workers share, made as uvicorn would but marked as TCP: asyncio turns Nagle's algorithm
    off only on sockets that say so, and with it on every answer waited ~40 ms for the client's delayed ACK."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}); stop what is listening there or "
            f"choose another port (--port / CREDREG_API_PORT)"
        ) from exc
    sock.set_inheritable(True)
    return sock


def worker_app() -> FastAPI:
    """The app of one worker process started by `run_server`: it answers requests and nothing else."""
    from credreg.api import create_app
    from credreg.config import Settings

    text = os.environ.get(WORKER_SETTINGS_ENV)
    if not text:
        raise RuntimeError(
            f"${WORKER_SETTINGS_ENV} is not set: worker processes are started by credreg serve"
        )
    settings = Settings.model_validate_json(text)
    return create_app(settings.model_copy(update={"outbox_worker": False, "index_follower": False}))
