"""`credreg chain ...` and `credreg deploy`: the embedded dev chain and deployments."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from credreg.chain.devkeys import ANVIL_TEST_KEYS
from credreg.chain.redact import redact
from credreg.cli.common import DevAccountOption, KeystoreOption, State, console, load_account, state
from credreg.errors import ConfigError, DevChainError

if TYPE_CHECKING:
    from credreg.config import Settings


chain_app = typer.Typer(
    help="Run the embedded dev chain (anvil on loopback, ledger kept under the data directory).\n\n"
    "Example: credreg chain start --detach"
)


def _pid_file(settings: Settings) -> Path:
    return settings.data_dir / "chain" / "anvil.pid"


@chain_app.command("start")
def chain_start(
    ctx: typer.Context,
    detach: Annotated[
        bool, typer.Option("--detach", "-d", help="Run in the background; stop with `credreg chain stop`.")
    ] = False,
) -> None:
    """Start the dev chain on 127.0.0.1 (port from CREDREG_CHAIN_PORT, default 8545).

    Example: credreg chain start --detach
    """
    from credreg.chain.devchain import DevChain

    settings = state(ctx).settings
    if detach:
        _start_detached(settings)
        return
    chain = DevChain(settings.data_dir, host=settings.chain_host, port=settings.chain_port)
    chain.start()
    console.print(f"dev chain on {chain.url}, ledger in {chain.state_path}; Ctrl-C stops it")
    try:
        _wait_for_signal()
    finally:
        chain.stop()
        console.print("dev chain stopped, ledger saved")


def _wait_for_signal() -> None:
    stop = {"now": False}

    def handler(signum: int, frame: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, handler)
    try:
        while not stop["now"]:
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass


def _detached_parent(settings: Settings) -> int:
    """The pid of a running `credreg chain start --detach` background process for this data directory, or 0.

    Checked against /proc, so a pid file left by a killed run never makes us signal a stranger."""
    from credreg.chain.devchain import process_cmdline

    pid_file = _pid_file(settings)
    try:
        pid = int(pid_file.read_text().strip() or 0)
    except (OSError, ValueError):
        return 0
    argv = process_cmdline(pid) if pid > 0 else None
    if not argv or "credreg.cli" not in argv or argv[-2:] != ["chain", "start"]:
        return 0
    return pid


def _start_detached(settings: Settings) -> None:
    from credreg.chain.devchain import rpc_answers

    pid_file = _pid_file(settings)
    running = _detached_parent(settings)
    if running:
        raise DevChainError(f"the dev chain already runs (pid {running}); `credreg chain stop` first")
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "credreg.cli", "chain", "start"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
        env={
            **os.environ,
            "CREDREG_DATA_DIR": str(settings.data_dir),
            "CREDREG_CHAIN_PORT": str(settings.chain_port),
        },
    )
    url = settings.effective_rpc_url
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            message = process.stderr.read().decode().strip() if process.stderr else ""
            raise DevChainError(message.removeprefix("error: ") or "the dev chain exited during start-up")
        if rpc_answers(url, timeout=0.5):
            pid_file.write_text(str(process.pid))
            console.print(f"dev chain on {url} (pid {process.pid}); stop it with `credreg chain stop`")
            return
        time.sleep(0.1)
    process.kill()
    raise DevChainError(f"the dev chain did not answer on {url} within 30 s")


@chain_app.command("stop")
def chain_stop(ctx: typer.Context) -> None:
    """Stop the dev chain: one started with --detach, or one a killed `credreg run` left behind.

    Example: credreg chain stop
    """
    from credreg.chain.devchain import stop_recorded_chain

    settings = state(ctx).settings
    pid_file = _pid_file(settings)
    parent = _detached_parent(settings)
    if parent:
        os.kill(parent, signal.SIGTERM)  # it stops its anvil cleanly, saving the ledger
        deadline = time.monotonic() + 30
        while _detached_parent(settings) == parent and time.monotonic() < deadline:
            time.sleep(0.1)
        if _detached_parent(settings) == parent:
            with contextlib.suppress(ProcessLookupError):
                os.kill(parent, signal.SIGKILL)
    pid_file.unlink(missing_ok=True)
    orphan = stop_recorded_chain(settings.data_dir)
    if orphan is not None:
        console.print(f"stopped the dev chain a killed run left behind (pid {orphan}); ledger saved")
    elif parent:
        console.print("dev chain stopped, ledger saved")
    else:
        console.print("no dev chain is running")


@chain_app.command("status")
def chain_status(ctx: typer.Context) -> None:
    """Say whether the chain answers and which deployment the manifest names.

    Example: credreg chain status
    """
    from credreg.chain.client import connect, rpc_url_of, split_rpc_urls
    from credreg.chain.devchain import recorded_chain, rpc_answers
    from credreg.chain.manifest import Manifest

    settings = state(ctx).settings
    url = settings.effective_rpc_url
    left = recorded_chain(settings.data_dir)
    if left is not None and not left.owner_alive:
        console.print(
            f"a dev chain left behind by a killed run (pid {left.pid}) holds {left.host}:{left.port}; "
            f"`credreg chain stop` stops it"
        )
    if not any(rpc_answers(u) for u in split_rpc_urls(url)):
        console.print(f"no chain answers on {redact(url)}")
        raise typer.Exit(1)
    w3 = connect(url)
    console.print(f"chain {w3.eth.chain_id} answers on {rpc_url_of(w3)}, head block {w3.eth.block_number}")
    try:
        manifest = Manifest.load(settings.manifest_path)
        console.print(f"registry {manifest.registry_address} (deployed in block {manifest.deployment_block})")
    except ConfigError as exc:
        console.print(str(exc))


def deploy(
    ctx: typer.Context,
    keystore: KeystoreOption = None,
    dev_account: DevAccountOption = None,
    governor: Annotated[
        str | None, typer.Option(help="Governor address (default: the deploying key).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Deploy again even if the manifest names a live registry.")
    ] = False,
) -> None:
    """Deploy the credential registry and write the deployment manifest every other command reads.

    Example: credreg deploy --keystore governor.json
    """
    from eth_account import Account

    from credreg.chain.client import chain_id, connect
    from credreg.chain.deploy import deploy_registry

    st: State = state(ctx)
    settings = st.settings
    path = settings.manifest_path
    if path.exists() and not force:
        raise ConfigError(f"{path} already names a deployment; pass --force to deploy a new registry")
    w3 = connect(settings.effective_rpc_url)
    if keystore is None and dev_account is None:
        raise ConfigError("deploying needs a key: give --keystore PATH (or --dev-account N on the dev chain)")
    if keystore is not None:
        account = load_account(st, keystore, None, role="deployer")
    else:
        from credreg.chain.devchain import DEV_CHAIN_ID

        if chain_id(w3) != DEV_CHAIN_ID:
            raise ConfigError("--dev-account is only for the dev chain; use --keystore")
        account = Account.from_key(ANVIL_TEST_KEYS[dev_account or 0])
    manifest = deploy_registry(w3, account, governor, confirmations=settings.confirmations)
    manifest.save(path)
    console.print(
        f"registry {manifest.registry_address} deployed in block {manifest.deployment_block}; manifest {path}"
    )
