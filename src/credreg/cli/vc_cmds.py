"""`credreg export vc`: a certificate as a W3C VC 2.0 (or an SD-JWT VC), signed with an agency issuer key."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from credreg.cli.common import console
from credreg.errors import ChainUnreachable, ConfigError, DocumentError

if TYPE_CHECKING:
    from credreg.documents.wrap import WrappedDocument
    from credreg.vc.keys import SigningKey

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
        int | None,
        typer.Option(
            "--position",
            min=0,
            help="The certificate's status list position (docs/interop.md: Status lists).",
        ),
    ] = None,
    status_base_url: Annotated[
        str | None,
        typer.Option("--status-base-url", help="Where the operator publishes the status lists."),
    ] = None,
    service: Annotated[
        str | None,
        typer.Option(
            "--service",
            help="Instead of --position and --status-base-url: the credreg service publishing the lists; "
            "it gives the certificate's position (from the ledger and the batch's leaves) and their URL.",
        ),
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write here instead of printing.")] = None,
    sd_jwt: Annotated[
        bool, typer.Option("--sd-jwt", help="Write an SD-JWT VC (holders can hide fields) instead.")
    ] = False,
) -> None:
    """Agency: turn a certificate into a W3C VC 2.0 signed with your issuer key (eddsa-rdfc-2022).

    Example: credreg export vc C-2026-0001.json --key issuer.pem --position 41
    --status-base-url https://registry.example.org/v1/status --out C-2026-0001.vc.json
    (or --service https://registry.example.org instead of --position and --status-base-url)
    """
    from credreg.chain.manifest import write_atomically
    from credreg.documents.wrap import load_document
    from credreg.vc.export import export_vc
    from credreg.vc.keys import load_signing_key
    from credreg.vc.sdjwt import issue_sd_jwt

    if service is not None and (position is not None or status_base_url is not None):
        raise ConfigError("give either --service, or --position with --status-base-url, not both")
    if service is None and (position is None or status_base_url is None):
        raise ConfigError("give --service URL, or both --position and --status-base-url")
    for name, url in (("--status-base-url", status_base_url), ("--service", service)):
        if url is not None and not url.startswith(("https://", "http://")):
            raise ConfigError(f"{name} must be an http(s) URL, got {url!r}")
    if out is not None and out.exists():
        raise ConfigError(f"{out} already exists; refusing to overwrite it")
    try:
        raw = certificate.read_bytes()
    except OSError as exc:
        raise DocumentError(f"cannot read {certificate}: {exc.strerror or exc}") from exc
    document = load_document(raw)
    if service is not None:
        position, status_base_url = service_position(service, document)
    if position is None or status_base_url is None:  # checked above; for the type checker
        raise ConfigError("give --service URL, or both --position and --status-base-url")
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


def service_position(service: str, document: WrappedDocument) -> tuple[int, str]:
    """The certificate's status list position and the lists' base URL, from the service publishing them."""
    import httpx

    from credreg.documents.layout import binding_from_document

    binding = binding_from_document(document)
    query: dict[str, str | int] = {
        "agency": binding.agency_id,
        "root": "0x" + binding.merkle_root,
        "leaf": "0x" + document["signature"]["targetHash"],
    }
    url = f"{service.rstrip('/')}/v1/status/position"
    try:
        reply = httpx.get(url, params=query, timeout=30)
    except httpx.HTTPError as exc:
        raise ChainUnreachable(f"{url} does not answer: {exc}") from exc
    if reply.status_code == 404:
        detail = (
            reply.json().get("detail", reply.text)
            if reply.headers.get("content-type", "").endswith("json")
            else reply.text
        )
        raise DocumentError(f"the certificate has no status list position at {service}: {detail}")
    if reply.status_code != 200:
        raise ChainUnreachable(f"{url} answered {reply.status_code}: {reply.text[:300]}")
    body = reply.json()
    return int(body["position"]), str(body["base_url"])


SERVICE_WAIT_SECONDS = 120.0


def batch_positions(service: str, agency_id: int, root: str) -> tuple[str, dict[str, int]]:
    """The lists' base URL and every leaf's position (``0x…`` target hash -> position) of one batch, from
    the service publishing the lists; waits (bounded) until its lists include the batch."""
    import httpx

    base = service.rstrip("/")
    deadline = time.monotonic() + SERVICE_WAIT_SECONDS
    try:
        with httpx.Client(timeout=60) as client:
            while True:
                reply = client.get(f"{base}/v1/status/batches", params={"agency": agency_id, "root": root})
                if reply.status_code != 200:
                    raise ChainUnreachable(
                        f"{base}/v1/status/batches answered {reply.status_code}: {reply.text[:300]}"
                    )
                body = reply.json()
                if body["batches"]:
                    break
                if time.monotonic() > deadline:
                    raise DocumentError(
                        f"batch {root} has no status list positions at {base}: the service was not given its "
                        "leaves, or has not indexed it yet"
                    )
                time.sleep(0.2)
    except httpx.HTTPError as exc:
        raise ChainUnreachable(f"{base} does not answer: {exc}") from exc
    batch = body["batches"][0]
    first = int(batch["first_position"])
    return str(body["base_url"]), {leaf: first + n for n, leaf in enumerate(batch["leaves"])}


def write_batch_vcs(
    service: str, key: SigningKey, documents: list[tuple[Path, WrappedDocument]], out_dir: Path
) -> list[Path]:
    """A VC 2.0 per certificate of one batch, beside the documents under `out_dir`, with its positions."""
    from credreg.chain.manifest import write_atomically
    from credreg.documents.layout import binding_from_document
    from credreg.vc.export import export_vc

    binding = binding_from_document(documents[0][1])
    base_url, positions = batch_positions(service, binding.agency_id, "0x" + binding.merkle_root)
    out_dir.mkdir(parents=True, exist_ok=True)
    now = int(time.time())
    written = []
    for path, document in documents:
        position = positions["0x" + document["signature"]["targetHash"]]
        credential = export_vc(document, key, status_base_url=base_url, position=position, created=now)
        target = out_dir / (path.stem + ".vc.json")
        write_atomically(target, json.dumps(credential, ensure_ascii=False, indent=2) + "\n")
        written.append(target)
    return written


def load_issuer_key(path: Path) -> SigningKey:
    from credreg.vc.keys import load_signing_key

    password = os.environ.get(KEY_PASSWORD_ENV)
    return load_signing_key(path, password.encode() if password else None)
