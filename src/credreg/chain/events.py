"""Reading the registry's events from the chain, in order, in block ranges the node accepts.

Decoding is the one codec's (`credreg.chain.codec`); this module only fetches the logs.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from eth_utils.address import to_checksum_address
from web3 import Web3
from web3.exceptions import Web3RPCError

from credreg.chain.client import rpc_url_of, with_retries
from credreg.chain.codec import ContractCodec, LedgerEvent

DEFAULT_CHUNK = 5_000


class EventDecoder:
    """Decodes raw logs of one contract ABI into `LedgerEvent`s (the codec's event half)."""

    def __init__(self, abi: Sequence[dict[str, Any]] | ContractCodec) -> None:
        self.codec = abi if isinstance(abi, ContractCodec) else ContractCodec(abi)

    @property
    def names(self) -> list[str]:
        return self.codec.event_names

    def topic_of(self, name: str) -> str:
        return self.codec.topic_of(name)

    def decode(self, log: dict[str, Any]) -> LedgerEvent | None:
        return self.codec.decode_log(log)


def iter_events(
    w3: Web3,
    address: str,
    decoder: EventDecoder,
    from_block: int,
    to_block: int,
    *,
    chunk: int = DEFAULT_CHUNK,
) -> Iterator[LedgerEvent]:
    """Every event of `address` in [from_block, to_block], oldest first, fetched `chunk` blocks at a time.

    A node that refuses a range as too large makes the range shrink and the read go on.
    """
    start = from_block
    size = max(1, chunk)
    url = rpc_url_of(w3)
    while start <= to_block:
        end = min(to_block, start + size - 1)
        params = {"address": to_checksum_address(address), "fromBlock": start, "toBlock": end}
        try:
            logs = with_retries(lambda p=params: w3.eth.get_logs(p), what="eth_getLogs", url=url)  # type: ignore[misc]
        except Web3RPCError:
            if size == 1:
                raise
            size = max(1, size // 4)
            continue
        for log in sorted(logs, key=lambda lg: (lg["blockNumber"], lg["logIndex"])):
            event = decoder.decode(dict(log))
            if event is not None:
                yield event
        start = end + 1


__all__ = ["DEFAULT_CHUNK", "EventDecoder", "LedgerEvent", "iter_events"]
