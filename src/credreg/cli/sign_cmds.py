"""`credreg sign` and `credreg submit`: an agency signs on a machine that never touches the network, and
anyone sends the signed request later, to a credreg service or straight to the ledger.

A signed request is a JSON file (`credreg.registry.requests`; the format is in docs/service.md). It names
the chain and the registry it is good for, and a deadline after which nobody can relay it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from credreg.cli.common import DevAccountOption, KeystoreOption, console, load_account, scope_of, state
from credreg.cli.timeparse import parse_time
from credreg.errors import ConfigError, KeystoreError

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from credreg.chain.eip712 import Domain
    from credreg.registry import SignedIssue, SignedStatusChange


sign_app = typer.Typer(
    help=(
        "Agency: sign an issuance or a status change offline, into a file that `credreg submit` sends.\n\n"
        "Example: credreg sign status certificates/C-1.json --action revoke --reason 3 --out revoke.json -k key.json"
    ),
    no_args_is_help=True,
)

#: Default lifetime of an offline signature: long enough to carry the file to a networked machine, short
#: enough that a file kept back is soon worthless (a service takes at most CREDREG_REQUEST_HORIZON_DAYS).
OFFLINE_VALIDITY_DAYS = 7

OutOption = Annotated[Path, typer.Option("--out", "-o", help="Where to write the signed request (JSON).")]
DeadlineOption = Annotated[
    str | None,
    typer.Option(
        "--deadline",
        metavar="WHEN",
        help=f"Last moment anyone may send it (ISO date or time; default {OFFLINE_VALIDITY_DAYS} days from now).",
    ),
]
CertificateArg = Annotated[
    Path | None,
    typer.Argument(metavar="CERTIFICATE", help="A wrapped certificate of the batch.", show_default=False),
]


def _offline_domain(ctx: typer.Context, certificate: Path | None) -> tuple[Domain, Any | None]:
    """The chain and registry to sign for, without the network: from the certificate, else the manifest."""
    from credreg.chain.eip712 import Domain
    from credreg.chain.manifest import Manifest
    from credreg.documents.layout import binding_from_document
    from credreg.documents.wrap import load_document

    if certificate is not None:
        binding = binding_from_document(load_document(_read(certificate)))
        return Domain(chain_id=binding.chain_id, registry=binding.registry), binding
    manifest = Manifest.load(state(ctx).settings.manifest_path)
    return Domain(chain_id=manifest.chain_id, registry=manifest.registry_address), None


def _offline_key(keystore: Path | None, dev_account: int | None, domain: Domain) -> LocalAccount:
    from eth_account import Account

    from credreg.chain.devchain import DEV_CHAIN_ID
    from credreg.chain.devkeys import ANVIL_TEST_KEYS
    from credreg.chain.keystore import load_keystore, password_from_env_or_prompt

    if keystore is not None and dev_account is not None:
        raise ConfigError(
            "--keystore 与 --dev-account 只能给一个 / give either --keystore or --dev-account, not both"
        )
    if keystore is not None:
        return load_keystore(keystore, password_from_env_or_prompt(prompt=f"Password for {keystore}: "))
    if dev_account is not None:
        if domain.chain_id != DEV_CHAIN_ID:
            raise KeystoreError(
                f"--dev-account 使用公开的测试密钥，在链 {domain.chain_id} 上不可用 / --dev-account uses public "
                f"test keys and is refused on chain {domain.chain_id}; use --keystore"
            )
        account: LocalAccount = Account.from_key(ANVIL_TEST_KEYS[dev_account])
        return account
    raise ConfigError(
        "签名需要评价机构签名密钥：请加 --keystore 密钥文件 / signing needs the agency signer's key: give --keystore PATH"
    )


def _deadline(ctx: typer.Context, text: str | None) -> int:
    from credreg.registry import default_deadline

    if text is None:
        return default_deadline(None, OFFLINE_VALIDITY_DAYS * 86_400)
    return parse_time(text, zone=state(ctx).settings.zone, field="--deadline")


def _write(out: Path, signed: SignedIssue | SignedStatusChange) -> None:
    from credreg.chain.manifest import write_atomically

    if out.exists():
        raise ConfigError(f"{out} 已存在，不会覆盖 / {out} already exists; refusing to overwrite it")
    write_atomically(out, signed.model_dump_json(indent=2) + "\n")


@sign_app.command("issue")
def sign_issue_cmd(
    ctx: typer.Context,
    certificate: CertificateArg = None,
    out: OutOption = Path("issue-request.json"),
    root: Annotated[
        str | None, typer.Option("--root", help="The batch's merkle root, without a certificate.")
    ] = None,
    scope: Annotated[
        str | None, typer.Option("--scope", help="With --root: the scope, e.g. 4-04-05-06/3.")
    ] = None,
    valid_until: Annotated[
        int, typer.Option("--valid-until-seconds", help="With --root: the on-chain expiry (0: none).", min=0)
    ] = 0,
    deadline: DeadlineOption = None,
    keystore: KeystoreOption = None,
    dev_account: DevAccountOption = None,
) -> None:
    """Agency: sign the issuance of a batch offline (from any certificate of the batch, or --root/--scope).

    Example: credreg sign issue certificates/C-1.json --out issue.json -k agency-signer.json
    """
    from credreg.chain.eip712 import IssueRequest
    from credreg.documents.model import expiry_timestamp
    from credreg.hashes import hash32
    from credreg.registry import sign_issue

    domain, binding = _offline_domain(ctx, certificate)
    if binding is not None:
        if root or scope:
            raise ConfigError(
                "给出证书文件，或 --root/--scope，不要都给 / give a certificate, or --root/--scope, not both"
            )
        request = IssueRequest(
            root=hash32(binding.merkle_root),
            scope_id=binding.scope_id,
            valid_until=expiry_timestamp(binding.valid_until),
            deadline=_deadline(ctx, deadline),
        )
    else:
        if root is None or scope is None:
            raise ConfigError(
                "请给出证书文件，或同时给出 --root 和 --scope / give a certificate file, or both --root and --scope"
            )
        request = IssueRequest(
            root=hash32(root),
            scope_id=scope_of(scope, "--scope"),
            valid_until=valid_until,
            deadline=_deadline(ctx, deadline),
        )
    signer = _offline_key(keystore, dev_account, domain)
    _write(out, sign_issue(signer, domain, request))
    console.print(
        f"已签名 / signed: issuance of root {request.root} by {signer.address}, good until {request.deadline}"
    )
    console.print(f"  → {out}; send it with: credreg submit {out}")


@sign_app.command("status")
def sign_status_cmd(
    ctx: typer.Context,
    certificate: CertificateArg = None,
    action: Annotated[
        str, typer.Option("--action", metavar="ACTION", help="revoke, suspend or reinstate.")
    ] = "revoke",
    reason: Annotated[
        int, typer.Option("--reason", min=0, max=65535, help="Reason code (see credreg reasons).")
    ] = 0,
    nonce: Annotated[
        int,
        typer.Option(
            "--nonce",
            min=0,
            help="The target's current change count on the ledger (0 if it never changed; `credreg submit` says "
            "which one is due if this is stale).",
        ),
    ] = 0,
    whole_batch: Annotated[
        bool, typer.Option("--whole-batch", help="The certificate's whole batch.")
    ] = False,
    out: OutOption = Path("status-request.json"),
    deadline: DeadlineOption = None,
    keystore: KeystoreOption = None,
    dev_account: DevAccountOption = None,
) -> None:
    """Agency: sign a revocation, suspension or reinstatement of a certificate offline.

    Example: credreg sign status certificates/C-1.json --action revoke --reason 3 --out revoke.json -k key.json
    """
    from credreg.chain.eip712 import StatusAction, StatusChangeRequest
    from credreg.hashes import hash32
    from credreg.registry import sign_status_change

    if certificate is None:
        raise ConfigError("请给出证书文件 / give the certificate file")
    try:
        change = StatusAction[action.strip().upper()]
    except KeyError:
        raise typer.BadParameter(
            f"{action!r} 不是可用的操作，请用 revoke、suspend 或 reinstate / {action!r} is not an action: use revoke, "
            f"suspend or reinstate",
            param_hint="--action",
        ) from None
    domain, binding = _offline_domain(ctx, certificate)
    assert binding is not None
    root = "0x" + binding.merkle_root.removeprefix("0x")
    target = root if whole_batch else "0x" + binding.target_hash.removeprefix("0x")
    proof = [] if whole_batch else ["0x" + p.removeprefix("0x") for p in binding.proof]
    request = StatusChangeRequest(
        agency_id=binding.agency_id,
        root=hash32(root),
        target=hash32(target),
        action=change,
        reason=reason,
        nonce=nonce,
        deadline=_deadline(ctx, deadline),
    )
    signer = _offline_key(keystore, dev_account, domain)
    _write(out, sign_status_change(signer, domain, request, proof))
    console.print(
        f"已签名 / signed: {change.name.lower()} of {request.target} (agency {request.agency_id}, nonce {nonce}) "
        f"by {signer.address}"
    )
    console.print(f"  → {out}; send it with: credreg submit {out}")


def read_signed(path: Path) -> SignedIssue | SignedStatusChange:
    """A signed request file, refused with a message naming the file and the field that is wrong."""
    from pydantic import ValidationError

    from credreg.registry import SignedIssue, SignedStatusChange

    text = _read(path).decode("utf-8", errors="strict") if path.exists() else ""
    try:
        raw = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} 不是 JSON / {path} is not valid JSON: {exc}") from None
    kind = raw.get("type") if isinstance(raw, dict) else None
    model = SignedStatusChange if kind == "credreg.status-change" else SignedIssue
    if kind not in ("credreg.issue", "credreg.status-change"):
        raise ConfigError(
            f"{path} 不是签名请求文件（type 应为 credreg.issue 或 credreg.status-change） / {path} is not a signed "
            f"request (its type must be credreg.issue or credreg.status-change)"
        )
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{path}: {where}: {first['msg']}") from None


def submit(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A signed request from `credreg sign`.")],
    service: Annotated[
        str | None,
        typer.Option("--service", metavar="URL", help="A credreg service to hand it to (it relays)."),
    ] = None,
    keystore: KeystoreOption = None,
    dev_account: DevAccountOption = None,
) -> None:
    """Send a signed request: to a credreg service (--service URL), or straight to the ledger (paying the gas
    with the given key).

    Example: credreg submit revoke.json --service https://registry.example.org
    """
    from credreg.registry import Relayer, SignedIssue

    signed = read_signed(file)
    if service is not None:
        _submit_to_service(service, signed)
        return
    st = state(ctx)
    registry = st.registry()
    relayer = load_account(st, keystore, dev_account, role="relayer")
    if isinstance(signed, SignedIssue):
        receipt = Relayer(registry, relayer, st.settings.confirmations).issue(signed)
    else:
        current = registry.status_of(signed.request.agency_id, signed.request.target).nonce
        if current != signed.request.nonce:
            raise ConfigError(
                f"账本上该目标的变更计数为 {current}，请用 --nonce {current} 重新签名 / the target's nonce on the ledger "
                f"is {current}, not {signed.request.nonce}: sign again with --nonce {current}"
            )
        receipt = Relayer(registry, relayer, st.settings.confirmations).set_status(signed)
    console.print(
        f"已上链 / on the ledger: transaction {receipt['transactionHash'].to_0x_hex()} in block {receipt['blockNumber']}"
    )


def _submit_to_service(service: str, signed: SignedIssue | SignedStatusChange) -> None:
    from credreg.cli import service_client

    body = service_client.submit(service, signed)
    console.print(
        f"已受理 / accepted (202): request {body.get('id')}, status {body.get('status')}; "
        f"follow it at {service.rstrip('/')}{body.get('location', '')}"
    )


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"无法读取 {path} / cannot read {path}: {exc.strerror or exc}") from None
