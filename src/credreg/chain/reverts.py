"""Turn a revert blob into the contract's named custom error, so callers see `NotAccredited(...)`."""

from __future__ import annotations

from functools import cache
from typing import Any

from eth_abi.abi import decode
from eth_abi.exceptions import DecodingError
from eth_utils.abi import collapse_if_tuple
from eth_utils.crypto import keccak
from web3.exceptions import ContractCustomError, ContractLogicError, ContractPanicError, Web3RPCError

from credreg.errors import ContractRevert

_ERROR_STRING = bytes.fromhex("08c379a0")
_PANIC = bytes.fromhex("4e487b71")


@cache
def _error_table(abi_key: tuple[str, ...]) -> dict[bytes, tuple[str, list[str], list[str]]]:
    import json

    table: dict[bytes, tuple[str, list[str], list[str]]] = {}
    for text in abi_key:
        entry = json.loads(text)
        types = [collapse_if_tuple(p) for p in entry["inputs"]]
        names = [p["name"] or f"arg{i}" for i, p in enumerate(entry["inputs"])]
        selector = keccak(text=f"{entry['name']}({','.join(types)})")[:4]
        table[selector] = (entry["name"], types, names)
    return table


def error_table(abi: list[dict[str, Any]]) -> dict[bytes, tuple[str, list[str], list[str]]]:
    import json

    return _error_table(tuple(json.dumps(e, sort_keys=True) for e in abi if e.get("type") == "error"))


def decode_revert_data(data: bytes, abi: list[dict[str, Any]]) -> ContractRevert:
    """The named error `data` encodes, or a generic one naming the raw selector."""
    selector, payload = data[:4], data[4:]
    try:
        if selector == _ERROR_STRING:
            (reason,) = decode(["string"], payload)
            return ContractRevert("Error", {"reason": reason}, f"reverted: {reason}")
        if selector == _PANIC:
            (code,) = decode(["uint256"], payload)
            return ContractRevert("Panic", {"code": code}, f"the contract panicked with code {code:#x}")
        known = error_table(abi).get(selector)
        if known is not None:
            name, types, names = known
            values = decode(types, payload)
            return ContractRevert(name, dict(zip(names, values, strict=True)))
    except DecodingError:
        pass
    if not data:
        return ContractRevert("Reverted", {}, "the contract reverted without a reason")
    return ContractRevert(
        "Unknown", {"data": data}, f"the contract reverted with unknown error 0x{data.hex()}"
    )


def revert_data_of(exc: BaseException) -> bytes | None:
    """The raw revert bytes carried by a web3.py exception, if it carries any."""
    data: Any = getattr(exc, "data", None)
    if isinstance(exc, Web3RPCError) and data is None:
        response = getattr(exc, "rpc_response", None) or {}
        data = (response.get("error") or {}).get("data")
    if isinstance(data, dict):
        data = data.get("data")
    if isinstance(data, bytes):
        return data
    if isinstance(data, str) and data.startswith("0x"):
        try:
            return bytes.fromhex(data[2:])
        except ValueError:
            return None
    return None


def as_contract_revert(exc: BaseException, abi: list[dict[str, Any]]) -> ContractRevert | None:
    """Translate a web3.py revert exception; None when `exc` is not a revert."""
    if not isinstance(exc, ContractCustomError | ContractLogicError | ContractPanicError | Web3RPCError):
        return None
    data = revert_data_of(exc)
    if data is None:
        if isinstance(exc, ContractLogicError) or "revert" in str(exc).lower():
            return ContractRevert("Reverted", {}, f"the contract reverted: {exc}")
        return None
    return decode_revert_data(data, abi)
