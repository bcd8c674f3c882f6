"""Reading the registry's events from the chain, in order, in block ranges the node accepts.

Decoding is done here from the ABI with eth_abi directly (no per-log contract machinery), because audits
and the service's index read every event since the deployment block.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from eth_abi.abi import decode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from web3 import Web3

from credreg.chain.logs import LogWindows, read_logs

DEFAULT_CHUNK = 5_000


@dataclass(frozen=True)
class LedgerEvent:
    """One decoded event, with its position on the ledger."""

    name: str
    block_number: int
    transaction_hash: str
    transaction_index: int
    log_index: int
    args: dict[str, Any]

    @property
    def position(self) -> tuple[int, int]:
        return (self.block_number, self.log_index)


@dataclass(frozen=True)
class _EventSpec:
    name: str
    indexed: tuple[tuple[str, str], ...]
    data: tuple[tuple[str, str], ...]
    order: tuple[str, ...]


class EventDecoder:
    """Decodes raw logs of one contract ABI."""

    def __init__(self, abi: Sequence[dict[str, Any]]) -> None:
        self._specs: dict[bytes, _EventSpec] = {}
        for entry in abi:
            if entry.get("type") != "event":
                continue
            inputs = entry["inputs"]
            signature = f"{entry['name']}({','.join(i['type'] for i in inputs)})"
            self._specs[keccak(text=signature)] = _EventSpec(
                name=entry["name"],
                indexed=tuple((i["name"], i["type"]) for i in inputs if i["indexed"]),
                data=tuple((i["name"], i["type"]) for i in inputs if not i["indexed"]),
                order=tuple(i["name"] for i in inputs),
            )

    @cached_property
    def names(self) -> list[str]:
        return sorted(spec.name for spec in self._specs.values())

    def topic_of(self, name: str) -> str:
        for topic, spec in self._specs.items():
            if spec.name == name:
                return "0x" + topic.hex()
        raise KeyError(name)

    def decode(self, log: dict[str, Any]) -> LedgerEvent | None:
        topics = [bytes(t) if not isinstance(t, str) else bytes.fromhex(t[2:]) for t in log["topics"]]
        if not topics or topics[0] not in self._specs:
            return None
        spec = self._specs[topics[0]]
        values: dict[str, Any] = {}
        for (name, kind), topic in zip(spec.indexed, topics[1:], strict=True):
            values[name] = _normalise(kind, decode([kind], topic)[0])
        raw_data = log["data"]
        data = bytes(raw_data) if not isinstance(raw_data, str) else bytes.fromhex(raw_data[2:])
        decoded = decode([kind for _, kind in spec.data], data)
        for (name, kind), value in zip(spec.data, decoded, strict=True):
            values[name] = _normalise(kind, value)
        tx_hash = log["transactionHash"]
        return LedgerEvent(
            name=spec.name,
            block_number=_int(log["blockNumber"]),
            transaction_hash=tx_hash if isinstance(tx_hash, str) else "0x" + bytes(tx_hash).hex(),
            transaction_index=_int(log["transactionIndex"]),
            log_index=_int(log["logIndex"]),
            args={name: values[name] for name in spec.order},
        )


def _int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


def _normalise(kind: str, value: Any) -> Any:
    if kind == "address":
        return to_checksum_address(value)
    if kind.startswith("bytes") and isinstance(value, bytes):
        return "0x" + value.hex()
    return value


def iter_events(
    w3: Web3,
    address: str,
    decoder: EventDecoder,
    from_block: int,
    to_block: int,
    *,
    chunk: int = DEFAULT_CHUNK,
    windows: LogWindows | None = None,
) -> Iterator[LedgerEvent]:
    """Every event of `address` in [from_block, to_block], oldest first, in windows of at most `chunk` blocks.

    Windows adapt to the node's limits (`credreg.chain.logs`); pass the same `windows` to successive calls
    so that what was learned of the node carries over.
    """
    policy = windows or LogWindows(max_blocks=max(1, chunk))
    for _, _, logs in read_logs(w3, address, from_block, to_block, windows=policy):
        for log in sorted(logs, key=lambda lg: (_int(lg["blockNumber"]), _int(lg["logIndex"]))):
            event = decoder.decode(dict(log))
            if event is not None:
                yield event
