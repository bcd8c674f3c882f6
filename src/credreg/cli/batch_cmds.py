"""`credreg batch upload`: tell a credreg service the leaves of a batch issued straight to the ledger, so its
look-up answers for each certificate of the batch, not only for the root."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from eth_account.signers.local import LocalAccount
from pydantic import ValidationError

from credreg.chain.eip712 import Domain
from credreg.cli import service_client
from credreg.cli.common import DevAccountOption, KeystoreOption, console, load_account, state
from credreg.errors import ConfigError
from credreg.issuance import BatchSummary
from credreg.registry import SignedBatchLeaves, sign_batch_leaves

batch_app = typer.Typer(
    help="Batches an agency issued: tell a service their certificates.", no_args_is_help=True
)


def read_summary(path: Path) -> BatchSummary:
    try:
        return BatchSummary.model_validate_json(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"无法读取 {path} / cannot read {path}: {exc.strerror or exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(
            f"{path} 不是批次摘要 / is not a batch summary (the batch-….json `credreg issue` writes): "
            f"{where}: {first['msg']}"
        ) from None


def summary_leaves(path: Path, summary: BatchSummary) -> list[str]:
    """The batch's leaves: from the summary, or (older summaries) from the documents it lists beside it."""
    if summary.leaves:
        return summary.leaves
    leaves = []
    for name in summary.files:
        document = path.parent / name
        try:
            leaves.append("0x" + json.loads(document.read_text(encoding="utf-8"))["signature"]["targetHash"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(
                f"此摘要未列出叶子，且无法读取证书文件 {document} / the summary lists no leaves and the "
                f"certificate file {document} cannot be read ({exc}); keep the summary beside its documents"
            ) from None
    return leaves


def sign_upload(summary: BatchSummary, leaves: list[str], signer: LocalAccount) -> SignedBatchLeaves:
    domain = Domain(chain_id=summary.chain_id, registry=summary.registry)
    return sign_batch_leaves(signer, domain, summary.agency_id, summary.root, leaves)


@batch_app.command("upload")
def upload(
    ctx: typer.Context,
    summary_file: Annotated[
        Path, typer.Argument(metavar="SUMMARY.json", help="The batch-….json `credreg issue` wrote.")
    ],
    service: Annotated[str, typer.Option("--service", metavar="URL", help="The credreg service to tell.")],
    keystore: KeystoreOption = None,
    dev_account: DevAccountOption = None,
) -> None:
    """Agency: sign the batch's leaves with a signer key of the agency and hand them to a service.

    The service checks them against the ledger (the root is the agency's, the leaves build it) and then
    answers for each certificate of the batch. Sending a batch again is harmless.
    Example: credreg batch upload certificates/batch-1a2b3c4d5e6f7a8b.json --service https://host -k key.json
    """
    summary = read_summary(summary_file)
    leaves = summary_leaves(summary_file, summary)
    signer = load_account(state(ctx), keystore, dev_account, role="agency signer")
    answer = service_client.upload_batch(service, sign_upload(summary, leaves, signer))
    console.print(
        f"服务已登记批次 / the service lists batch {answer.get('root')} of agency {answer.get('agency_id')}: "
        f"{answer.get('leaves')} certificate(s), {answer.get('added')} new"
    )
