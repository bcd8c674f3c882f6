"""A governor that is a Safe multisig wallet: governor commands write their transaction unsigned
(`--unsigned-tx FILE`), each owner signs it (`credreg safe sign`), and anyone executes it once enough
owners have signed (`credreg safe exec`). See docs/governance.md."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from credreg.cli.common import DevAccountOption, KeystoreOption, console, load_account, state
from credreg.errors import ConfigError, ContractRevert, SafeTxError

if TYPE_CHECKING:
    from credreg.chain.safe import SafeWallet, SignedSafeTx
    from credreg.registry import Registry


safe_app = typer.Typer(
    help="Safe multisig owners: sign the governor's transaction, and execute it once enough owners signed.\n\n"
    "Example: credreg safe sign accredit.json -k owner.json"
)

UnsignedTxOption = Annotated[
    Path | None,
    typer.Option(
        "--unsigned-tx",
        help="Send nothing: write the governor's transaction to FILE for a Safe multisig governor "
        "(Safe Transaction Builder JSON; see docs/governance.md).",
        show_default=False,
    ),
]
SignaturesOption = Annotated[
    Path | None,
    typer.Option(
        "--signatures", help="Signatures file (default: FILE with .signatures.json).", show_default=False
    ),
]


def address_arg(value: str, what: str) -> str:
    """`value` as an EIP-55 address; a clear error names `what` when it is not one."""
    from eth_utils.address import is_address, to_checksum_address

    if not is_address(value):
        raise ConfigError(f"{what} is not an address: {value!r}")
    return str(to_checksum_address(value))


def write_unsigned_tx(
    ctx: typer.Context, path: Path, description: str, method: str, *args: Any, safe: str | None = None
) -> None:
    """Write the registry call `method(*args)` as the Safe's unsigned transaction, after trying it as the
    Safe: owners never sign a call the registry would refuse. `safe` defaults to the current governor."""
    from eth_abi.exceptions import EncodingError

    from credreg.chain.manifest import write_atomically
    from credreg.chain.safe import SafeWallet, batch_file, batch_transaction

    st = state(ctx)
    registry = st.registry()
    if path.exists():
        raise ConfigError(f"{path} already exists; refusing to overwrite it")
    try:
        tx = registry.build(method, *args)
    except (EncodingError, ValueError, TypeError) as exc:
        raise ConfigError(f"cannot build {method}: {exc}") from exc
    wallet = SafeWallet(registry.w3, safe or registry.governor())
    if not registry.w3.eth.get_code(wallet.contract.address):
        raise ConfigError(
            f"{wallet.address} is a plain key, not a Safe: it sends this itself, without --unsigned-tx"
        )
    data = str(tx["data"])
    wallet.simulate(registry.address, data, 0, registry.abi)
    batch = batch_file(
        registry.domain.chain_id,
        wallet.address,
        [batch_transaction(registry.abi, registry.address, data)],
        name=f"credreg {method}",
        description=description,
        created_at_ms=int(time.time() * 1000),
    )
    write_atomically(path, json.dumps(batch, indent=2, ensure_ascii=False) + "\n")
    console.print(f"wrote the unsigned transaction ({description}) for the Safe {wallet.address} to {path}")
    console.print(f"  each owner signs it: credreg safe sign {path} --keystore OWNER.json")


def _signatures_path(file: Path, signatures: Path | None) -> Path:
    return signatures or file.with_name(f"{file.stem}.signatures.json")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SafeTxError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _describe(registry: Registry, data: str) -> str:
    """What the registry call does, as `method(arg=value, ...)`."""
    function, args = registry.contract.decode_function_input(data)
    shown = ", ".join(f"{k}={'0x' + v.hex() if isinstance(v, bytes) else v}" for k, v in args.items())
    return f"{function.fn_name}({shown})"


def _load(
    ctx: typer.Context, file: Path, signatures: Path | None, safe: str | None, nonce: int | None = None
) -> tuple[Registry, SafeWallet, SignedSafeTx, Path]:
    """The transaction of `file` with the signatures collected so far, checked against the chain."""
    from credreg.chain.safe import SafeTx, SafeWallet, SignedSafeTx, load_batch, load_signed, safe_tx_hash

    registry = state(ctx).registry()
    call = load_batch(_read(file), str(file))
    if call.chain_id != registry.domain.chain_id:
        raise SafeTxError(
            f"{file} is for chain {call.chain_id}, but the ledger is chain {registry.domain.chain_id}"
        )
    if call.to != registry.address:
        raise SafeTxError(
            f"{file} calls {call.to}, not the registry {registry.address}: credreg signs and executes "
            f"only the registry's calls (use the Safe's own tools for anything else)"
        )
    safe_address = safe or call.safe
    if not safe_address:
        raise SafeTxError(f"{file} names no Safe (meta.createdFromSafeAddress): give --safe ADDRESS")
    wallet = SafeWallet(registry.w3, address_arg(safe_address, "--safe"))
    wallet.check()
    path = _signatures_path(file, signatures)
    if path.exists():
        signed = load_signed(_read(path), str(path))
        tx = signed.safe_tx
        # Everything but the nonce must be what the file asks for: a plain call, no gas refund to anyone.
        expected = SafeTx(to=call.to, value=call.value, data=call.data, nonce=tx.nonce)
        if (signed.safe, signed.chain_id, tx) != (wallet.address, call.chain_id, expected):
            raise SafeTxError(f"{path} holds signatures for another transaction or Safe than {file}")
        if nonce is not None and nonce != tx.nonce:
            raise SafeTxError(f"{path} already fixes Safe transaction number {tx.nonce}, not {nonce}")
    else:
        tx = SafeTx(
            to=call.to, value=call.value, data=call.data, nonce=wallet.nonce() if nonce is None else nonce
        )
        signed = SignedSafeTx(safe=wallet.address, chain_id=call.chain_id, safe_tx=tx, safe_tx_hash="0x")
    # The hash is computed here and by the Safe itself; both must agree before anyone signs or executes.
    local = safe_tx_hash(call.chain_id, wallet.address, tx)
    if local != wallet.transaction_hash(tx):
        raise SafeTxError(
            f"the Safe at {wallet.address} computes another hash for this transaction than credreg"
        )
    if signed.safe_tx_hash not in ("0x", local):
        raise SafeTxError(f"{path} records hash {signed.safe_tx_hash}, not {local}: the file was altered")
    current = wallet.nonce()
    if tx.nonce < current:
        raise SafeTxError(
            f"the Safe has already executed its transaction {tx.nonce} (its nonce is now {current}); "
            f"remove {path} and sign again if this transaction is still wanted"
        )
    return registry, wallet, signed.model_copy(update={"safe_tx_hash": local}), path


@safe_app.command("sign")
def safe_sign(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The unsigned transaction (from --unsigned-tx).")],
    signatures: SignaturesOption = None,
    safe: Annotated[
        str | None, typer.Option(help="The Safe (default: the one the file names).", show_default=False)
    ] = None,
    nonce: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="The Safe transaction number, for an action queued behind others (default: the next).",
            show_default=False,
        ),
    ] = None,
    keystore: KeystoreOption = None,
    dev_account: DevAccountOption = None,
) -> None:
    """Safe owner: add your signature over the transaction's Safe hash to its signatures file.

    Example: credreg safe sign accredit.json -k owner.json
    """
    from credreg.chain.manifest import write_atomically
    from credreg.chain.safe import OwnerSignature, sign_safe_tx_hash

    registry, wallet, signed, path = _load(ctx, file, signatures, safe, nonce)
    account = load_account(state(ctx), keystore, dev_account, role="Safe owner")
    owners = wallet.owners()
    if account.address not in owners:
        raise SafeTxError(f"{account.address} is not an owner of the Safe {wallet.address}")
    signature = sign_safe_tx_hash(account, signed.safe_tx_hash)
    others = [s for s in signed.signatures if s.owner != account.address]
    updated = signed.model_copy(
        update={"signatures": [*others, OwnerSignature(owner=account.address, signature=signature)]}
    )
    write_atomically(path, updated.model_dump_json(by_alias=True, indent=2) + "\n")
    tx = signed.safe_tx
    console.print(f"{account.address} signed Safe transaction {tx.nonce} ({signed.safe_tx_hash})")
    console.print(f"  {_describe(registry, tx.data)}")
    console.print(f"  {len(updated.signatures)} of {wallet.threshold()} signatures, in {path}")


@safe_app.command("exec")
def safe_exec(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The unsigned transaction (from --unsigned-tx).")],
    signatures: SignaturesOption = None,
    keystore: KeystoreOption = None,
    dev_account: DevAccountOption = None,
) -> None:
    """Anyone: execute the transaction through the Safe once enough owners have signed (pays the gas).

    Example: credreg safe exec accredit.json -k relayer.json
    """
    from credreg.chain.safe import explain_safe_revert, signer_of

    st = state(ctx)
    path = _signatures_path(file, signatures)
    if not path.exists():
        raise SafeTxError(f"no signatures yet: {path} does not exist (owners run `credreg safe sign {file}`)")
    registry, wallet, signed, path = _load(ctx, file, signatures, None)
    owners, threshold = wallet.owners(), wallet.threshold()
    valid = []
    for entry in signed.signatures:
        if signer_of(signed.safe_tx_hash, entry.signature) != entry.owner:
            raise SafeTxError(f"the signature recorded for {entry.owner} in {path} is not that owner's")
        if entry.owner in owners:
            valid.append(entry)
    if len(valid) < threshold:
        raise SafeTxError(
            f"{len(valid)} of the Safe's owners signed; it needs {threshold} (more owners run `credreg safe sign`)"
        )
    tx = signed.safe_tx
    if tx.nonce != wallet.nonce():
        raise SafeTxError(
            f"the Safe must first execute its transaction {wallet.nonce()}; this one is number {tx.nonce}"
        )
    wallet.simulate(tx.to, tx.data, tx.value, registry.abi)
    account = load_account(st, keystore, dev_account, role="submitting")
    sender = registry.sender(account, st.settings.confirmations)
    try:
        receipt = sender.send(wallet.exec_transaction(tx, valid))
    except ContractRevert as exc:
        raise explain_safe_revert(exc) from exc
    console.print(f"executed Safe transaction {tx.nonce}: {_describe(registry, tx.data)}")
    console.print(f"  transaction {receipt['transactionHash'].to_0x_hex()} in block {receipt['blockNumber']}")
