"""The `credreg` command: one shell over the library for every kind of user."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from credreg import __version__
from credreg.cli.admin_cmds import (
    agency_app,
    governor_app,
    issuer_key_app,
    keys_app,
    reasons,
    sample_results,
    scope_app,
    signer_app,
)
from credreg.cli.audit_cmds import audit_app
from credreg.cli.batch_cmds import batch_app
from credreg.cli.chain_cmds import chain_app, deploy
from credreg.cli.common import State
from credreg.cli.credential_cmds import disclose, issue, reinstate, revoke, suspend, verify
from credreg.cli.run_cmd import run
from credreg.cli.safe_cmds import safe_app
from credreg.cli.serve_cmd import serve
from credreg.cli.sign_cmds import sign_app, submit
from credreg.cli.vc_cmds import export_app
from credreg.errors import ConfigError

app = typer.Typer(
    name="credreg",
    help=(
        "credreg: accredited agencies issue skill credentials on a permissioned ledger; holders share them; "
        "employers verify them; auditors replay the ledger.\n\n"
        "Example: credreg verify certificate.json"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"credreg {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    data_dir: Annotated[
        Path | None, typer.Option(help="Data directory (default ./.credreg, or $CREDREG_DATA_DIR).")
    ] = None,
    rpc_url: Annotated[
        list[str] | None,
        typer.Option(
            help="JSON-RPC endpoint (default: the dev chain, or $CREDREG_RPC_URL); give it again to name more "
            "nodes of the same network to fail over to (or $CREDREG_RPC_URLS, comma-separated)."
        ),
    ] = None,
    manifest: Annotated[
        Path | None, typer.Option(help="Deployment manifest (default <data-dir>/deployment.json).")
    ] = None,
    tz: Annotated[
        str | None,
        typer.Option(
            "--tz",
            help="Time zone for reading and showing times (default Asia/Shanghai, or $CREDREG_TIMEZONE).",
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Settings shared by every command; each also reads CREDREG_* environment variables."""
    # Imported here, not at the top: `credreg --help` never runs this, and must not pay for them.
    from pydantic import ValidationError

    from credreg.chain.rpc import check_rpc_url
    from credreg.config import Settings, settings_problem

    given = {
        "data_dir": data_dir,
        "rpc_url": ",".join(rpc_url) if rpc_url else None,
        "manifest": manifest,
        "timezone": tz,
    }
    overrides = {k: v for k, v in given.items() if v is not None}
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        if not where:  # a rule across settings, such as the node profile's batch limit
            raise ConfigError(settings_problem(exc)) from None
        option = "--tz" if where == "timezone" else f"CREDREG_{where.upper()}"
        raise typer.BadParameter(
            str(first.get("ctx", {}).get("error") or first["msg"]), param_hint=option
        ) from None
    check_rpc_url(settings.effective_rpc_url)
    ctx.obj = State(settings)


app.add_typer(chain_app, name="chain")
app.add_typer(keys_app, name="keys")
app.add_typer(scope_app, name="scope")
app.add_typer(agency_app, name="agency")
app.add_typer(governor_app, name="governor")
app.add_typer(safe_app, name="safe")
app.add_typer(signer_app, name="signer")
app.add_typer(issuer_key_app, name="issuer-key")
app.add_typer(audit_app, name="audit")
app.add_typer(batch_app, name="batch")
app.add_typer(export_app, name="export")
app.add_typer(sign_app, name="sign")
app.command("deploy")(deploy)
app.command("run")(run)
app.command("issue")(issue)
app.command("revoke")(revoke)
app.command("suspend")(suspend)
app.command("reinstate")(reinstate)
app.command("disclose")(disclose)
app.command("verify")(verify)
app.command("reasons")(reasons)
app.command("submit")(submit)
app.command("sample-results")(sample_results)
app.command("serve")(serve)
