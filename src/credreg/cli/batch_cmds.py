"""`credreg batch upload`: tell a credreg service the leaves of a batch issued straight to the ledger, so its
look-up answers for each certificate of the batch, not only for the root."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from credreg.cli.common import (
    DevAccountOption,
    KeystoreOption,
    console,
    err_console,
    load_account,
    state,
)
from credreg.errors import ConfigError, DocumentError

if TYPE_CHECKING:
    import httpx
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
    answers for each certificate of the batch. Sending a batch again is harmless. A batch of more than
    10,000 certificates is sent in parts; if the upload stops, run the same command again to resume it.
    Example: credreg batch upload certificates/batch-1a2b3c4d5e6f7a8b.json --service https://host -k key.json
    """
    from credreg.summaries import read_summary

    summary = read_summary(summary_file)
    signer = load_account(state(ctx), keystore, dev_account, role="agency signer")
    say_listed(upload_summary(service, summary_file, summary, signer))


def say_listed(answer: dict[str, Any]) -> None:
    """What the service answered to an upload of a batch's leaves."""
    console.print(
        f"服务已登记批次 / the service lists batch {answer.get('root')} of agency {answer.get('agency_id')}: "
        f"{answer.get('leaves')} certificate(s), {answer.get('added')} new"
    )


def upload_summary(
    service: str, summary_file: Path, summary: BatchSummary, signer: LocalAccount
) -> dict[str, Any]:
    """Sign the leaves of the batch `summary_file` describes with `signer` and hand them to `service`: in one
    streamed request, or in parts past `PARTS_FROM` (run again, it resumes). The service's answer, as
    `POST /v1/batches` gives it (`agency_id`, `root`, `leaves`, `added`)."""
    from credreg.summaries import iter_summary_leaves

    def leaves() -> Iterator[str]:
        return iter_summary_leaves(summary_file, summary)

    # Two passes over the summary's leaves, neither holding them: one for the hash the signature covers,
    # one as the request body is sent (a million leaves are 70 MB of JSON).
    signed, count = sign_streamed_upload(summary, leaves, signer)
    if count > PARTS_FROM:
        # A large batch goes in parts the service checks as they arrive; run again to resume.
        return send_in_parts(service, signed, leaves, count)
    return send_streamed_upload(service, signed, leaves, count)


UPLOAD_PIECE = 4096  # leaves to a piece of the streamed request body
#: Batches with more leaves go in parts (POST /v1/batches/uploads): a service's default `max_leaves`.
PARTS_FROM = 10_000  # service_client.LEAVES_IN_ONE_REQUEST, not imported here: this module loads with the CLI
PART_ATTEMPTS = 3  # a part whose connection fails is sent again this often before the command gives up


def sign_streamed_upload(
    summary: BatchSummary, leaves: Callable[[], Iterator[str]], signer: LocalAccount
) -> tuple[SignedBatchLeaves, int]:
    """`sign_upload` of the leaves `leaves()` gives, read once and not kept: the signed upload without its
    leaves (one placeholder), and how many there are."""
    from credreg.chain.eip712 import BatchLeavesRequest, Domain, sign
    from credreg.documents._keccak import new_keccak256
    from credreg.registry import SignedBatchLeaves

    digest: Any = new_keccak256(b"")  # keccak256 of the leaves' bytes, as `leaves_hash` computes it
    count = 0
    for leaf in leaves():
        try:
            raw = bytes.fromhex(leaf.removeprefix("0x"))
        except ValueError:
            raw = b""
        if len(raw) != 32:
            raise DocumentError(f"叶子 {leaf} 不是 32 字节的哈希 / the leaf {leaf} is not a hash of 32 bytes")
        digest.update(raw)
        count += 1
    if not count:
        raise DocumentError(
            "此摘要没有叶子 / the summary lists no leaves and no documents: nothing to upload"
        )
    domain = Domain(chain_id=summary.chain_id, registry=summary.registry)
    request = BatchLeavesRequest(
        agency_id=summary.agency_id, root=summary.root.lower(), leaves_hash="0x" + digest.hexdigest()
    )
    placeholder = "0x" + "00" * 32
    upload = SignedBatchLeaves(
        chain_id=domain.chain_id,
        registry=domain.registry,
        request=request,
        leaves=[placeholder],
        signature=sign(signer, domain, request),
    )
    return upload, count


def send_streamed_upload(
    service: str, upload: SignedBatchLeaves, leaves: Callable[[], Iterator[str]], count: int
) -> dict[str, Any]:
    """POST /v1/batches with `upload`'s body, its leaves those `leaves()` gives, sent as they are read (the
    body the service receives is the same JSON as the whole upload's `model_dump(mode="json")`)."""
    import httpx

    from credreg.cli.service_client import answer_of

    body = upload.model_dump(mode="json")
    body["leaves"] = []
    head, _, tail = json.dumps(body, separators=(",", ":")).partition('"leaves":[]')
    sent = [0]

    def pieces() -> Iterator[bytes]:
        yield (head + '"leaves":[').encode()
        piece: list[str] = []
        for leaf in leaves():
            piece.append(leaf)
            if len(piece) == UPLOAD_PIECE:
                yield (("," if sent[0] else "") + ",".join(f'"{x}"' for x in piece)).encode()
                sent[0] += len(piece)
                piece = []
        if piece:
            yield (("," if sent[0] else "") + ",".join(f'"{x}"' for x in piece)).encode()
            sent[0] += len(piece)
        if sent[0] != count:
            raise DocumentError(f"the summary's leaves changed while they were sent ({sent[0]}, not {count})")
        yield ("]" + tail).encode()

    # Its length is known before it is read: a service whose body limit it passes refuses it at once (413).
    length = len(head) + len('"leaves":[') + 68 * count + (count - 1) + len("]" + tail)
    headers = {"content-type": "application/json", "content-length": str(length)}
    url = service.rstrip("/") + "/v1/batches"
    try:
        reply = httpx.post(url, content=pieces(), headers=headers, timeout=300)
    except (httpx.WriteError, httpx.RemoteProtocolError) as exc:
        raise ConfigError(
            f"服务 {service} 在接收 {count} 个叶子（{length:,} 字节）时断开，可能超出其请求大小上限 / the service "
            f"at {service} closed the connection while receiving {count} leaves ({length:,} bytes), perhaps "
            f"over its body limit (CREDREG_MAX_BODY_BYTES): {exc}"
        ) from None
    except httpx.HTTPError as exc:
        raise ConfigError(f"无法连接服务 {service} / cannot reach the service at {service}: {exc}") from None
    return answer_of(reply)


def send_in_parts(
    service: str,
    upload: SignedBatchLeaves,
    leaves: Callable[[], Iterator[str]],
    count: int,
    *,
    say: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Upload `upload`'s leaves (`leaves()`, `count` of them) in the parts the service asks for, from the
    first part it has not acknowledged, then have it check and list them. The answer, as `POST /v1/batches`
    gives it (`agency_id`, `root`, `leaves`, `added`)."""
    import httpx

    tell = say or (lambda text: err_console.print(text))
    body = upload.model_dump(mode="json")
    del body["leaves"], body["type"]
    body["count"] = count
    with httpx.Client() as client:  # one connection for every part
        return _send_in_parts(service, client, body, leaves, count, tell)


def _send_in_parts(
    service: str,
    client: httpx.Client,
    body: dict[str, Any],
    leaves: Callable[[], Iterator[str]],
    count: int,
    tell: Callable[[str], None],
) -> dict[str, Any]:
    from credreg.cli.service_client import call

    state = call(service, "POST", "/v1/batches/uploads", body, client=client)
    location, per, total = str(state["location"]), int(state["part_leaves"]), int(state["parts_total"])
    # The same signed upload listed by an earlier run: its answer counts what that run added, not this one.
    listed_before = state["status"] == "listed"
    if not listed_before:
        done = int(state["parts"])
        if done:
            tell(
                f"续传上传 {state['id']}，从第 {done + 1} 部分开始 / resuming upload {state['id']} from part {done + 1}"
            )
        part: list[str] = []
        for at, leaf in enumerate(leaves()):
            if at < done * per:
                continue  # acknowledged already
            part.append(leaf.lower())
            if len(part) == per or at == count - 1:
                done += 1
                _send_part(service, client, f"{location}/parts/{done}", part)
                if done == total or done % max(1, total // 10) == 0:  # ten lines at most
                    tell(f"已发送第 {done}/{total} 部分 / sent part {done} of {total}")
                part = []
        if done != total:
            raise DocumentError(
                f"摘要的叶子在发送时发生了变化 / the summary's leaves changed while they were sent ({done} of "
                f"{total} parts)"
            )
        state = call(service, "POST", f"{location}/complete", timeout=COMPLETE_SECONDS, client=client)
    return {
        "agency_id": state["agency_id"],
        "root": state["root"],
        "leaves": state["count"],
        "added": 0 if listed_before else state["added"],
        "upload": state["id"],
    }


COMPLETE_SECONDS = 600.0  # checking and listing 1,000,000 leaves takes the service tens of seconds


def _send_part(service: str, client: httpx.Client, path: str, leaves: list[str]) -> None:
    from credreg.cli.service_client import call

    for attempt in range(1, PART_ATTEMPTS + 1):
        try:
            call(service, "PUT", path, {"leaves": leaves}, timeout=120, client=client)
            return
        except ConfigError as exc:
            # Only a connection that failed is worth sending again; a refusal says what is wrong.
            if "cannot reach" not in str(exc) or attempt == PART_ATTEMPTS:
                raise ConfigError(
                    f"{exc}; 修正后重新运行同一命令即可续传 / run the same command again to resume the upload"
                ) from None
            time.sleep(attempt)
