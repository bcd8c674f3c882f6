"""Deploy the credential registry from ape: `ape run deploy_registry` (see README.md, Developing).

ape connects to the node (`--network ethereum:local:<rpc url>`; by default ape-config.yaml's node provider at
http://127.0.0.1:8545, where `credreg chain start` runs the dev chain), then this runs credreg's own
`credreg deploy` against that node: the same deployment, checks and manifest (<data dir>/deployment.json,
which every other credreg command reads). It signs with an anvil test key, so it serves the dev chain only;
on any other network deploy with `credreg deploy --keystore PATH`.
"""

from __future__ import annotations

from typing import Any

import click
from ape.cli import ConnectedProviderCommand


@click.command(cls=ConnectedProviderCommand, short_help="Deploy the credential registry with credreg deploy")
@click.option(
    "--dev-account", type=int, default=0, show_default=True, help="The anvil test account that deploys."
)
@click.option("--governor", default=None, help="Governor address (default: the deploying account).")
@click.option("--force", is_flag=True, help="Deploy again even if the manifest names a live registry.")
def cli(provider: Any, dev_account: int, governor: str | None, force: bool) -> None:
    from credreg.cli import main

    if not provider.http_uri:
        raise click.UsageError(f"ape's provider {provider.name!r} has no JSON-RPC URL to give credreg deploy")
    args = ["--rpc-url", provider.http_uri, "deploy", "--dev-account", str(dev_account)]
    args += ["--governor", governor] if governor else []
    args += ["--force"] if force else []
    if code := main(args):
        raise click.exceptions.Exit(code)
