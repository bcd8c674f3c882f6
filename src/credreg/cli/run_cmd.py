"""`credreg run`: the whole system on one machine, for trying it out and for development."""

from __future__ import annotations

import typer
from eth_account import Account

from credreg.chain.client import connect
from credreg.chain.deploy import deploy_registry
from credreg.chain.devchain import DevChain
from credreg.chain.devkeys import ANVIL_TEST_KEYS
from credreg.chain.manifest import Manifest
from credreg.cli.chain_cmds import _wait_for_signal
from credreg.cli.common import console, state
from credreg.errors import ConfigError, WrongChain
from credreg.registry import Registry


def run(ctx: typer.Context) -> None:
    """Start the embedded chain, deploy the registry on first start (reuse it after), and keep running.

    The ledger, the deployment manifest and the demo live under the data directory (default ./.credreg).
    Example: credreg run
    """
    settings = state(ctx).settings
    chain = DevChain(settings.data_dir, host=settings.chain_host, port=settings.chain_port)
    chain.start()
    try:
        manifest = _deployment(chain.url, settings.manifest_path)
        console.print(f"dev chain   {chain.url}  (ledger {chain.state_path})")
        console.print(f"registry    {manifest.registry_address}  (manifest {settings.manifest_path})")
        console.print("Ctrl-C stops everything; the ledger is saved and reused next time.")
        _wait_for_signal()
    finally:
        chain.stop()
        console.print("stopped; ledger saved")


def _deployment(url: str, path: object) -> Manifest:
    from pathlib import Path

    assert isinstance(path, Path)
    if path.exists():
        manifest = Manifest.load(path)
        try:
            Registry.connect(url, manifest)
            return manifest
        except WrongChain as exc:
            raise ConfigError(
                f"{path} names a registry this chain does not have ({exc}); move the manifest away to deploy anew"
            ) from exc
    governor = Account.from_key(ANVIL_TEST_KEYS[0])
    manifest = deploy_registry(connect(url), governor)
    manifest.save(path)
    console.print(f"deployed the registry (governor: anvil test account 0, {governor.address})")
    return manifest
