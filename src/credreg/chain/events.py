"""Reading the registry's events from the chain, in order, in block ranges the node accepts.

Decoding is the one codec's (`credreg.chain.codec`); this module only fetches the logs.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from web3 import Web3

from credreg.chain.codec import ContractCodec, LedgerEvent
from credreg.chain.logs import LogWindows, read_logs

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


def _int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


__all__ = ["DEFAULT_CHUNK", "EventDecoder", "LedgerEvent", "iter_events"]
