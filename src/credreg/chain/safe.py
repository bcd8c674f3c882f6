"""Governing through a Safe multisig wallet (Safe 1.3 and 1.4.1): the unsigned transaction, the owners'
signatures over it, and executing it once enough owners have signed.

The unsigned transaction is a Safe Transaction Builder batch file, the JSON that the Safe{Wallet}
Transaction Builder app imports and exports (and `safe-cli`'s `tx-builder` command executes):

    {"version": "1.0", "chainId": "31337", "createdAt": <ms since 1970>,
     "meta": {"name", "description", "txBuilderVersion", "createdFromSafeAddress",
              "createdFromOwnerAddress", "checksum"},
     "transactions": [{"to", "value", "data", "contractMethod", "contractInputsValues"}]}

credreg writes one registry call per file, with both its `data` (what the owners sign) and the method and
argument values the Transaction Builder shows; on reading, the two must agree. Owners sign the Safe's
EIP-712 `SafeTx` hash; `execTransaction` takes their 65-byte signatures ordered by owner address.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from eth_abi.abi import encode
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_keys.datatypes import Signature
from eth_keys.exceptions import BadSignature
from eth_typing import Hash32
from eth_utils.address import is_address, to_checksum_address
from eth_utils.crypto import keccak
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.alias_generators import to_camel
from web3 import Web3
from web3.contract import Contract
from web3.types import TxParams

from credreg.chain.reverts import as_contract_revert
from credreg.errors import ContractRevert, SafeTxError

ZERO_ADDRESS = "0x" + "00" * 20
BATCH_FILE_VERSION = "1.0"
TX_BUILDER_VERSION = "1.18.0"  # the Transaction Builder release whose file format this follows
CALL = 0  # Safe operation: a plain call (1 would be a delegatecall, which credreg never proposes)
_HASH = re.compile(r"0x[0-9a-fA-F]{64}\Z")
_SIGNATURE = re.compile(r"0x[0-9a-fA-F]{130}\Z")

_SAFE_TX_FIELDS: tuple[tuple[str, str], ...] = (
    ("to", "address"),
    ("value", "uint256"),
    ("data", "bytes"),
    ("operation", "uint8"),
    ("safeTxGas", "uint256"),
    ("baseGas", "uint256"),
    ("gasPrice", "uint256"),
    ("gasToken", "address"),
    ("refundReceiver", "address"),
)


def _fn(name: str, inputs: Sequence[tuple[str, str]], outputs: Sequence[str], view: bool) -> dict[str, Any]:
    return {
        "type": "function",
        "name": name,
        "inputs": [{"name": n, "type": t} for n, t in inputs],
        "outputs": [{"name": "", "type": t} for t in outputs],
        "stateMutability": "view" if view else "nonpayable",
    }


# The part of the Safe's interface credreg uses (the full ABI ships in npm `@safe-global/safe-contracts`).
SAFE_ABI: list[dict[str, Any]] = [
    _fn("VERSION", [], ["string"], True),
    _fn("nonce", [], ["uint256"], True),
    _fn("getThreshold", [], ["uint256"], True),
    _fn("getOwners", [], ["address[]"], True),
    _fn("getTransactionHash", [*_SAFE_TX_FIELDS, ("_nonce", "uint256")], ["bytes32"], True),
    _fn("execTransaction", [*_SAFE_TX_FIELDS, ("signatures", "bytes")], ["bool"], False),
]

# Why a Safe refuses, for the codes an execution can meet (Safe 1.3/1.4.1 revert with "GSnnn" strings).
SAFE_ERRORS = {
    "GS013": "the called contract reverted (and the transaction set no safeTxGas or gas price)",
    "GS020": "too few signatures for the Safe's threshold",
    "GS021": "a contract signature points outside the signatures data",
    "GS024": "a contract owner's signature is invalid",
    "GS025": "an approved hash is not approved by that owner",
    "GS026": "a signature is not from an owner, or the signatures are not ordered by owner address",
}


def _address(value: str) -> str:
    if not is_address(value):
        raise ValueError(f"not an address: {value!r}")
    return str(to_checksum_address(value))


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


class SafeTx(_Model):
    """One Safe transaction, as `getTransactionHash` and `execTransaction` take it."""

    to: str
    value: int = 0
    data: str = "0x"
    operation: int = CALL
    safe_tx_gas: int = 0
    base_gas: int = 0
    gas_price: int = 0
    gas_token: str = ZERO_ADDRESS
    refund_receiver: str = ZERO_ADDRESS
    nonce: int = Field(ge=0)

    _addresses = field_validator("to", "gas_token", "refund_receiver")(_address)

    @field_validator("data")
    @classmethod
    def _hex(cls, value: str) -> str:
        if re.fullmatch(r"0x(?:[0-9a-fA-F]{2})*", value) is None:
            raise ValueError("not 0x-prefixed hex bytes")
        return value.lower()

    def args(self) -> list[Any]:
        """The nine leading arguments of `getTransactionHash` and `execTransaction`."""
        return [
            to_checksum_address(self.to), self.value, bytes.fromhex(self.data[2:]), self.operation,
            self.safe_tx_gas, self.base_gas, self.gas_price, to_checksum_address(self.gas_token),
            to_checksum_address(self.refund_receiver),
        ]  # fmt: skip


class OwnerSignature(_Model):
    owner: str
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$")

    _owner = field_validator("owner")(_address)


class SignedSafeTx(_Model):
    """A Safe transaction with the owners' signatures collected so far (a signatures file)."""

    safe: str
    chain_id: int
    safe_tx: SafeTx
    safe_tx_hash: str = Field(pattern=r"^0x([0-9a-fA-F]{64})?$")
    signatures: list[OwnerSignature] = Field(default_factory=list)

    _safe = field_validator("safe")(_address)


# --- the Transaction Builder batch file --------------------------------------------------------------------


def _serialise(value: Any) -> str:
    """The Transaction Builder's canonical text of a JSON value: object keys sorted, listed first."""
    if isinstance(value, list):
        return "[" + ",".join(_serialise(v) for v in value) + "]"
    if isinstance(value, dict):
        keys = sorted(value)
        return "{" + _json(keys) + "".join(_serialise(value[k]) + "," for k in keys) + "}"
    return _json(value)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def batch_checksum(batch: dict[str, Any]) -> str:
    """The `meta.checksum` the Transaction Builder writes and checks: keccak of the file without it, unnamed."""
    meta = {k: v for k, v in batch.get("meta", {}).items() if k != "checksum"}
    return "0x" + keccak(text=_serialise({**batch, "meta": {**meta, "name": None}})).hex()


def _format_value(kind: str, value: Any) -> str:
    """An argument as the Transaction Builder writes it in `contractInputsValues`."""
    if kind.endswith("]"):
        element = kind[: kind.rindex("[")]
        return "[" + ",".join(_format_value(element, v) for v in value) + "]"
    if kind.startswith("bytes"):
        return "0x" + bytes(value).hex()
    if kind == "bool":
        return "true" if value else "false"
    if kind == "address":
        return str(to_checksum_address(value))
    return str(value)


def _parse_value(kind: str, text: str) -> Any:
    """The inverse of `_format_value`, for the types registry calls use."""
    text = text.strip()
    if kind.endswith("]"):
        if not (text.startswith("[") and text.endswith("]")):
            raise ValueError(f"expected [a,b,...] for {kind}")
        element = kind[: kind.rindex("[")]
        inner = text[1:-1].strip()
        return [_parse_value(element, item.strip().strip('"')) for item in inner.split(",")] if inner else []
    if kind.startswith("bytes"):
        if not text.startswith("0x"):
            raise ValueError(f"expected 0x-prefixed hex for {kind}")
        return bytes.fromhex(text[2:])
    if kind.startswith(("uint", "int")):
        return int(text, 0)
    if kind == "bool":
        if text.lower() not in ("true", "false"):
            raise ValueError("expected true or false")
        return text.lower() == "true"
    if kind == "address":
        if not is_address(text):
            raise ValueError("not an address")
        return to_checksum_address(text)
    return text


def _method_entry(abi: Sequence[dict[str, Any]], name: str) -> dict[str, Any]:
    entries = [e for e in abi if e.get("type") == "function" and e.get("name") == name]
    if len(entries) != 1:
        raise SafeTxError(f"the registry has {len(entries)} functions named {name!r}, not one")
    return entries[0]


def batch_transaction(abi: Sequence[dict[str, Any]], to: str, data: str) -> dict[str, Any]:
    """One batch-file transaction calling `to` with `data`, its method and values spelled out from `abi`."""
    contract = Web3().eth.contract(abi=abi)
    function, args = contract.decode_function_input(data)
    entry = _method_entry(abi, function.fn_name)
    inputs = entry["inputs"]
    return {
        "to": str(to_checksum_address(to)),
        "value": "0",
        "data": data,
        "contractMethod": {
            "inputs": [
                {"internalType": i.get("internalType", i["type"]), "name": i["name"], "type": i["type"]}
                for i in inputs
            ],
            "name": entry["name"],
            "payable": entry.get("stateMutability") == "payable",
        },
        "contractInputsValues": {i["name"]: _format_value(i["type"], args[i["name"]]) for i in inputs},
    }


def batch_file(
    chain_id: int,
    safe: str | None,
    transactions: list[dict[str, Any]],
    *,
    name: str,
    description: str,
    created_at_ms: int,
) -> dict[str, Any]:
    """A Transaction Builder batch file holding `transactions`, with its checksum."""
    batch: dict[str, Any] = {
        "version": BATCH_FILE_VERSION,
        "chainId": str(chain_id),
        "createdAt": created_at_ms,
        "meta": {
            "name": name,
            "description": description,
            "txBuilderVersion": TX_BUILDER_VERSION,
            "createdFromSafeAddress": str(to_checksum_address(safe)) if safe else "",
            "createdFromOwnerAddress": "",
        },
        "transactions": transactions,
    }
    batch["meta"]["checksum"] = batch_checksum(batch)
    return batch


def _encoded_from_method(transaction: dict[str, Any]) -> str:
    method = transaction.get("contractMethod")
    values = transaction.get("contractInputsValues") or {}
    if not isinstance(method, dict) or not isinstance(values, dict):
        raise SafeTxError("the transaction has neither data nor contractMethod and contractInputsValues")
    try:
        inputs = method["inputs"]
        types = [str(i["type"]) for i in inputs]
        args = [_parse_value(str(i["type"]), str(values[i["name"]])) for i in inputs]
        selector = keccak(text=f"{method['name']}({','.join(types)})")[:4]
        return "0x" + (selector + encode(types, args)).hex()
    except (KeyError, TypeError, ValueError) as exc:
        raise SafeTxError(f"cannot encode the transaction's contractInputsValues: {exc}") from exc


@dataclass(frozen=True)
class BatchCall:
    """The one call a batch file holds, for the chain `chain_id` and (when it names one) the Safe `safe`."""

    chain_id: int
    safe: str | None
    to: str
    data: str
    value: int


def load_batch(text: str, source: str) -> BatchCall:
    """Read a batch file holding one call.

    The `data` owners sign and the method and values the Transaction Builder shows must agree; a batch of
    several calls needs the Safe's MultiSend and is refused here.
    """
    try:
        batch = json.loads(text)
        chain_id = int(batch["chainId"])
        transactions = batch["transactions"]
        meta = batch.get("meta") or {}
    except (ValueError, KeyError, TypeError) as exc:
        raise SafeTxError(f"{source} is not a Safe Transaction Builder batch file: {exc}") from exc
    if not isinstance(transactions, list) or len(transactions) != 1:
        count = len(transactions) if isinstance(transactions, list) else "no"
        raise SafeTxError(
            f"{source} holds {count} transactions; credreg signs and executes files of exactly one "
            f"(load a batch of several into the Safe's Transaction Builder instead)"
        )
    tx = transactions[0]
    if not isinstance(tx, dict) or not isinstance(tx.get("to"), str) or not is_address(tx["to"]):
        raise SafeTxError(f"{source}: the transaction has no valid 'to' address")
    data = tx.get("data")
    shown = _encoded_from_method(tx) if tx.get("contractMethod") else None
    if data in (None, ""):
        if shown is None:
            raise SafeTxError(f"{source}: the transaction has no data and no contractMethod")
        data = shown
    if not isinstance(data, str) or re.fullmatch(r"0x(?:[0-9a-fA-F]{2})*", data) is None:
        raise SafeTxError(f"{source}: the transaction's data is not 0x-prefixed hex")
    if shown is not None and shown.lower() != data.lower():
        raise SafeTxError(
            f"{source}: the transaction's data does not encode the contractMethod and contractInputsValues "
            f"it shows; the file was altered"
        )
    try:
        value = int(tx.get("value") or 0)
    except (TypeError, ValueError) as exc:
        raise SafeTxError(f"{source}: the transaction's value is not a number") from exc
    safe = meta.get("createdFromSafeAddress") or None
    if safe is not None and not is_address(safe):
        raise SafeTxError(f"{source}: meta.createdFromSafeAddress is not an address")
    return BatchCall(chain_id, safe, str(to_checksum_address(tx["to"])), data.lower(), value)


# --- hashing and signing ---------------------------------------------------------------------------------


def safe_tx_hash(chain_id: int, safe: str, tx: SafeTx) -> str:
    """The EIP-712 hash of `tx` for the Safe at `safe`, which its owners sign (Safe 1.3 and later)."""
    message = dict(zip((n for n, _ in _SAFE_TX_FIELDS), tx.args(), strict=True)) | {"nonce": tx.nonce}
    signable = encode_typed_data(
        full_message={
            "types": {
                "EIP712Domain": [
                    {"name": "chainId", "type": "uint256"},
                    {"name": "verifyingContract", "type": "address"},
                ],
                "SafeTx": [{"name": n, "type": t} for n, t in (*_SAFE_TX_FIELDS, ("nonce", "uint256"))],
            },
            "primaryType": "SafeTx",
            "domain": {"chainId": chain_id, "verifyingContract": to_checksum_address(safe)},
            "message": message,
        }
    )
    return "0x" + keccak(b"\x19" + signable.version + signable.header + signable.body).hex()


def sign_safe_tx_hash(owner: LocalAccount, tx_hash: str) -> str:
    """An owner's 65-byte signature (r, s, v with v 27 or 28) over a Safe transaction hash."""
    if _HASH.match(tx_hash) is None:
        raise SafeTxError(f"not a 32-byte hash: {tx_hash!r}")
    return "0x" + bytes(owner.unsafe_sign_hash(Hash32(bytes.fromhex(tx_hash[2:]))).signature).hex()


def signer_of(tx_hash: str, signature: str) -> str:
    """The address that made `signature` over `tx_hash`."""
    if _SIGNATURE.match(signature) is None:
        raise SafeTxError(f"not a 65-byte signature: {signature[:20]!r}…")
    raw = bytes.fromhex(signature[2:])
    if raw[64] not in (27, 28):
        raise SafeTxError("only plain owner signatures (v = 27 or 28) are supported")
    try:
        key = Signature(raw[:64] + bytes([raw[64] - 27])).recover_public_key_from_msg_hash(
            bytes.fromhex(tx_hash[2:])
        )
    except BadSignature as exc:
        raise SafeTxError(f"a signature cannot be recovered: {exc}") from exc
    return str(key.to_checksum_address())


def packed_signatures(signatures: Sequence[OwnerSignature]) -> bytes:
    """The `signatures` argument of `execTransaction`: one per owner, ordered by owner address."""
    ordered = sorted(signatures, key=lambda s: int(s.owner, 16))
    return b"".join(bytes.fromhex(s.signature[2:]) for s in ordered)


# --- a deployed Safe -------------------------------------------------------------------------------------


class SafeWallet:
    """A deployed Safe: what credreg reads from it, and its `execTransaction` call."""

    def __init__(self, w3: Web3, address: str) -> None:
        self.w3 = w3
        self.address = str(to_checksum_address(address))
        self.contract: Contract = w3.eth.contract(address=to_checksum_address(address), abi=SAFE_ABI)

    def check(self) -> str:
        """The Safe's version; SafeTxError when there is no Safe at the address."""
        if not self.w3.eth.get_code(self.contract.address):
            raise SafeTxError(f"there is no contract at {self.address}; is that the Safe's address?")
        try:
            return str(self.contract.functions.VERSION().call())
        except Exception as exc:  # any contract without the Safe's VERSION() view
            raise SafeTxError(f"the contract at {self.address} does not answer as a Safe: {exc}") from exc

    def nonce(self) -> int:
        return int(self.contract.functions.nonce().call())

    def threshold(self) -> int:
        return int(self.contract.functions.getThreshold().call())

    def owners(self) -> list[str]:
        return [str(o) for o in self.contract.functions.getOwners().call()]

    def transaction_hash(self, tx: SafeTx) -> str:
        """The hash the Safe itself computes for `tx` (its `getTransactionHash` view)."""
        raw = self.contract.functions.getTransactionHash(*tx.args(), tx.nonce).call()
        return "0x" + bytes(raw).hex()

    def exec_transaction(self, tx: SafeTx, signatures: Sequence[OwnerSignature]) -> TxParams:
        """The transaction that executes `tx` with `signatures`; anyone may send it."""
        data = self.contract.encode_abi("execTransaction", args=[*tx.args(), packed_signatures(signatures)])
        return cast(TxParams, {"to": self.address, "data": data})

    def simulate(self, to: str, data: str, value: int, abi: list[dict[str, Any]]) -> None:
        """Run the call as the Safe would make it; the called contract's refusal raises ContractRevert."""
        call = {"from": self.address, "to": to_checksum_address(to), "data": data, "value": value}
        try:
            self.w3.eth.call(cast(TxParams, call))
        except Exception as exc:
            revert = as_contract_revert(exc, abi)
            if revert is None:
                raise
            raise revert from exc


def explain_safe_revert(exc: ContractRevert) -> ContractRevert:
    """A Safe's "GSnnn" revert with what the code means."""
    reason = str(exc.args_by_name.get("reason", "")) if exc.name == "Error" else ""
    if reason in SAFE_ERRORS:
        return ContractRevert(
            "Error", exc.args_by_name, f"the Safe refused ({reason}): {SAFE_ERRORS[reason]}"
        )
    return exc


def load_signed(text: str, source: str) -> SignedSafeTx:
    try:
        return SignedSafeTx.model_validate_json(text)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(p) for p in problem["loc"])
        raise SafeTxError(f"{source} is not a signatures file: {where}: {problem['msg']}") from exc


__all__ = [
    "SAFE_ABI",
    "SAFE_ERRORS",
    "ZERO_ADDRESS",
    "BatchCall",
    "OwnerSignature",
    "SafeTx",
    "SafeWallet",
    "SignedSafeTx",
    "batch_checksum",
    "batch_file",
    "batch_transaction",
    "explain_safe_revert",
    "load_batch",
    "load_signed",
    "packed_signatures",
    "safe_tx_hash",
    "sign_safe_tx_hash",
    "signer_of",
]
