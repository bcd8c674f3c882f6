"""`credreg batch upload`: tell a credreg service the leaves of a batch issued straight to the ledger, so its
look-up answers for each certificate of the batch, not only for the root."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from credreg.cli.common import DevAccountOption, KeystoreOption, console, load_account, state

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from credreg.issuance import BatchSummary
    from credreg.registry import SignedBatchLeaves

batch_app = typer.Typer(
    help="Agency: tell a credreg service the certificates of a batch issued straight to the ledger.\n\n"
    "Example: credreg batch upload certificates/batch-1a2b3c4d5e6f7a8b.json --service https://host -k key.json",
    no_args_is_help=True,
)


def sign_upload(summary: BatchSummary, leaves: list[str], signer: LocalAccount) -> SignedBatchLeaves:
    from credreg.chain.eip712 import Domain
    from credreg.registry import sign_batch_leaves

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
    from credreg.cli import service_client
    from credreg.summaries import read_summary, summary_leaves

    summary = read_summary(summary_file)
    leaves = summary_leaves(summary_file, summary)
    signer = load_account(state(ctx), keystore, dev_account, role="agency signer")
    answer = service_client.upload_batch(service, sign_upload(summary, leaves, signer))
    console.print(
        f"服务已登记批次 / the service lists batch {answer.get('root')} of agency {answer.get('agency_id')}: "
        f"{answer.get('leaves')} certificate(s), {answer.get('added')} new"
    )
