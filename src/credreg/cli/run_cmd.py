"""`credreg run`: the whole system on one machine, for trying it out and for development."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from credreg.cli.common import console, state
from credreg.errors import ConfigError, PortInUse, WrongChain, WrongContractVersion

if TYPE_CHECKING:
    from credreg.chain.manifest import Manifest


def run(ctx: typer.Context) -> None:
    """Start the embedded chain, deploy and seed a demo on first start (reuse both after), and serve.

    The ledger, the deployment manifest and the demo live under the data directory (default ./.credreg).
    Example: credreg run
    """
    from credreg.chain.devchain import DevChain, port_is_free
    from credreg.cli.serve_cmd import run_server
    from credreg.demo import seed_demo
    from credreg.registry import Registry

    settings = state(ctx).settings
    if not port_is_free(settings.api_host, settings.api_port):
        raise PortInUse(settings.api_host, settings.api_port)
    chain = DevChain(settings.data_dir, host=settings.chain_host, port=settings.chain_port)
    chain.start()
    try:
        manifest = _deployment(chain.url, settings.manifest_path)
        registry = Registry.connect(chain.url, manifest)
        demo = seed_demo(registry, settings.data_dir)
        console.print(f"dev chain   {chain.url}  (ledger {chain.state_path})")
        console.print(f"registry    {manifest.registry_address}  (manifest {settings.manifest_path})")
        console.print(
            f"demo        {demo.directory}/: agency {demo.agency_id}, certificates in {demo.certificates}/"
        )
        console.print("try         credreg verify " + str(demo.shared))
        console.print("            credreg verify " + str(demo.revoked) + "   (revoked on purpose)")
        console.print(f"web page    http://{settings.api_host}:{settings.api_port}/  (API docs at /docs)")
        console.print("Ctrl-C stops everything; the ledger is saved and reused next time.")
        run_server(settings.model_copy(update={"rpc_url": chain.url}))
    finally:
        chain.stop()
        console.print("stopped; ledger saved")


def _deployment(url: str, path: Path) -> Manifest:
    """The manifest's deployment if this chain has it, else a new deployment by the demo governor."""
    from credreg.chain.client import connect
    from credreg.chain.deploy import deploy_registry
    from credreg.chain.manifest import Manifest
    from credreg.demo import demo_accounts
    from credreg.registry import Registry

    if path.exists():
        manifest = Manifest.load(path)
        try:
            Registry.connect(url, manifest)
        except WrongContractVersion:
            raise  # its message says what to do
        except WrongChain as exc:
            raise ConfigError(
                f"{path} names a registry this chain does not have ({exc}); move the manifest away to deploy anew"
            ) from exc
        return manifest
    governor = demo_accounts()[0]
    manifest = deploy_registry(connect(url), governor)
    manifest.save(path)
    console.print(f"deployed the registry; governor is anvil test account 0 ({governor.address})")
    return manifest
