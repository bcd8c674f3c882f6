"""`credreg export vc`: a certificate as a W3C VC 2.0 (or an SD-JWT VC), signed with an agency issuer key."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Annotated

import typer

from credreg.cli.common import console
from credreg.errors import ConfigError, DocumentError

export_app = typer.Typer(
    help="Agency: export certificates as W3C VC 2.0 or SD-JWT VC (docs/interop.md).\n\n"
    "Example: credreg export vc C-2026-0001.json --key issuer.pem --position 41 "
    "--status-base-url https://registry.example.org/v1/status",
    no_args_is_help=True,
)

KEY_PASSWORD_ENV = "CREDREG_VC_KEY_PASSWORD"  # noqa: S105 - the variable's name, not a password


@export_app.command("vc")
def export_vc_command(
    certificate: Annotated[
        Path, typer.Argument(help="A fully visible credreg certificate file (as issued).")
    ],
    key: Annotated[
        Path,
        typer.Option(
            "--key",
            help=f"The agency's Ed25519 issuer key, PKCS#8 PEM; if encrypted, its password is ${KEY_PASSWORD_ENV}.",
        ),
    ],
    position: Annotated[
        int,
        typer.Option(
            "--position",
            min=0,
            help="The certificate's status list position (docs/interop.md: Status lists).",
        ),
    ],
    status_base_url: Annotated[
        str,
        typer.Option("--status-base-url", help="Where the operator publishes the status lists."),
    ],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write here instead of printing.")] = None,
    sd_jwt: Annotated[
        bool, typer.Option("--sd-jwt", help="Write an SD-JWT VC (holders can hide fields) instead.")
    ] = False,
) -> None:
    """Agency: turn a certificate into a W3C VC 2.0 signed with your issuer key (eddsa-rdfc-2022).

    Example: credreg export vc C-2026-0001.json --key issuer.pem --position 41
    --status-base-url https://registry.example.org/v1/status --out C-2026-0001.vc.json
    """
    from credreg.chain.manifest import write_atomically
    from credreg.documents.wrap import load_document
    from credreg.vc.export import export_vc
    from credreg.vc.keys import load_signing_key
    from credreg.vc.sdjwt import issue_sd_jwt

    if not status_base_url.startswith(("https://", "http://")):
        raise ConfigError(f"--status-base-url must be an http(s) URL, got {status_base_url!r}")
    if out is not None and out.exists():
        raise ConfigError(f"{out} already exists; refusing to overwrite it")
    try:
        raw = certificate.read_bytes()
    except OSError as exc:
        raise DocumentError(f"cannot read {certificate}: {exc.strerror or exc}") from exc
    document = load_document(raw)
    password = os.environ.get(KEY_PASSWORD_ENV)
    signing_key = load_signing_key(key, password.encode() if password else None)
    now = int(time.time())
    if sd_jwt:
        text = issue_sd_jwt(
            document, signing_key, status_base_url=status_base_url, position=position, issued_at=now
        )
    else:
        credential = export_vc(
            document, signing_key, status_base_url=status_base_url, position=position, created=now
        )
        text = json.dumps(credential, ensure_ascii=False, indent=2)
    if out is None:
        typer.echo(text)
        return
    write_atomically(out, text + "\n")
    console.print(f"wrote {out}, signed by {signing_key.did}")
