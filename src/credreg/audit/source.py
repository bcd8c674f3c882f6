"""Reading the registry's events fast enough for an audit: plain `eth_getLogs` replies, read as they arrive.

An audit of a large ledger has a budget of 10 µs an event for everything, so logs are taken from raw
JSON-RPC replies (no web3.py objects) and decoded by the one codec's path for them
(`credreg.chain.codec.ContractCodec.decode_raw`, static words sliced from hex).

Block times: anvil and recent geth put `blockTimestamp` on each log; Besu and GoQuorum do not. A block
with a `CredentialIssued` or `CredentialStatusChanged` event needs no lookup (their `issuedAt` / `since` is
the block's time); the others are asked for in JSON-RPC batches.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from itertools import pairwise
from typing import Any

import requests
from web3 import HTTPProvider, Web3

from credreg.chain.client import FailoverProvider, rpc_url_of, with_retries
from credreg.chain.codec import ContractCodec, LedgerEvent, UndecodableLog, checksum
from credreg.chain.logs import MAX_WINDOW_BLOCKS, LogReply, LogWindows
from credreg.errors import ChainError

# The log budget of one window: its logs are held at once. Windows start small and are then sized from the
# density seen, so a dense ledger is never fetched thousands of blocks at a time and a sparse one is not read
# block by block; a reply is cut where a block ends past the budget.
TARGET_WINDOW_EVENTS = 5_000
FIRST_WINDOW_BLOCKS = 16
# Bytes read from an eth_getLogs reply at a time (about 60 logs).
READ_CHUNK = 1 << 16
HEADER_BATCH = 500
# Events whose field is, by the contract's rules, the block's time: their blocks need no header lookup. The
# invariants check the field against the block's time whenever the header or the log gives it.
TIME_FIELDS = {"CredentialIssued": "issuedAt", "CredentialStatusChanged": "since"}


def time_of(event: LedgerEvent) -> int:
    """The block time of an event the audit read (`LogSource` fills every one in)."""
    moment = event.block_time
    if moment is None:
        raise ChainError(f"{event.name} at block {event.block_number} has no block time")
    return moment


# `"result": [` opens the list of logs in a JSON-RPC reply; nothing before it (jsonrpc, id) can contain it.
_RESULT_LIST = re.compile(r'"result"\s*:\s*\[')
_BETWEEN_ITEMS = re.compile(r"[\s,]*")


def read_log_stream(chunks: Iterable[bytes], budget: int) -> tuple[Any, int]:
    """Parse an eth_getLogs reply as it arrives, keeping at most `budget` logs plus the rest of one block.

    Returns (the reply as JSON-RPC would give it, the last block whose logs are all in it, or -1 when the whole
    reply was read). Logs arrive in block order, so the reply can be cut where a block ends: what was kept is
    exactly the logs of the blocks up to `through`, and the rest of the reply is never held.
    """
    text = codecs.getincrementaldecoder("utf-8")()
    scan = json.JSONDecoder().raw_decode
    buffer, position, items = "", -1, iter(chunks)
    logs: list[dict[str, Any]] = []
    last_block = -1
    ended = False
    while True:
        if position < 0:
            found = _RESULT_LIST.search(buffer)
            if found:
                position = found.end()
            elif ended:
                # An error or an empty reply: small, parsed whole.
                return json.loads(buffer), -1
        while position >= 0:
            position = _BETWEEN_ITEMS.match(buffer, position).end()  # type: ignore[union-attr]
            if position < len(buffer) and buffer[position] == "]":
                return {"result": logs}, -1
            try:
                log, after = scan(buffer, position)
            except json.JSONDecodeError:
                if ended:
                    raise
                break  # the next log has not fully arrived
            block = int(log["blockNumber"], 16)
            if len(logs) >= budget and block != last_block:
                return {"result": logs}, last_block
            logs.append(log)
            last_block, position = block, after
            if position > READ_CHUNK:
                buffer, position = buffer[position:], 0
        if ended:
            raise json.JSONDecodeError("the reply ends inside the list of logs", buffer, len(buffer))
        chunk = next(items, None)
        if chunk is None:
            ended = True
            buffer += text.decode(b"", final=True)
        else:
            buffer += text.decode(chunk)


@dataclass
class LogSource:
    """The registry's events between two blocks, window by window, with block times filled in.

    Each window holds about `target_events` logs whatever the blocks' density, so memory does not grow with
    the ledger: the next window's blocks are sized from the density just seen (by `LogWindows`, the policy
    every log reader shares, which also shrinks a window the node refuses), and a reply
    that still brings more is cut at the first block boundary past the budget, as it arrives. Every log
    kept is applied; the only log read twice is the one that showed where a cut reply's last block ended.
    """

    w3: Web3
    address: str
    decoder: ContractCodec
    window_blocks: int = MAX_WINDOW_BLOCKS
    target_events: int = TARGET_WINDOW_EVENTS
    use_log_timestamps: bool = True
    _policy: LogWindows = field(init=False)
    _session: requests.Session | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self._policy = LogWindows(
            max_blocks=max(1, min(self.window_blocks, MAX_WINDOW_BLOCKS)),
            first_blocks=FIRST_WINDOW_BLOCKS,
            target_events=self.target_events,
        )
        self.address = checksum(self.address)

    @property
    def url(self) -> str:
        return rpc_url_of(self.w3)

    def windows(self, from_block: int, to_block: int) -> Iterator[tuple[int, int, list[LedgerEvent]]]:
        """(first block, last block, events) for consecutive windows covering [from_block, to_block].

        Windows follow credreg's one log-window policy (`credreg.chain.logs.LogWindows`), here sized to hold
        about `target_events` logs. The next window's logs are fetched in the background while the caller
        applies the current one, so the node's work and ours overlap; at most two windows are held at once.
        """
        self._session = requests.Session()
        try:
            for start, end, logs in self._policy.read(self._get_logs, from_block, to_block, prefetch=True):
                decode = self.decoder.decode_raw
                events = [decode(log) for log in logs]
                del logs  # the decoded events are all that is held of this window while it is applied
                if any(a.position >= b.position for a, b in pairwise(events)):
                    events.sort(key=_position)
                yield start, end, self._timed(events)
        finally:
            session, self._session = self._session, None
            if session is not None:
                session.close()

    def _get_logs(self, start: int, end: int) -> LogReply:
        """The raw logs of [start, end] (or of its first blocks, when they hold the budget already), or the
        node's reason when it refuses the range."""
        params = [{"address": self.address, "fromBlock": hex(start), "toBlock": hex(end)}]
        provider = self.w3.provider
        through = -1
        if isinstance(provider, HTTPProvider) and self._session is not None:
            session = self._session
            body = {"jsonrpc": "2.0", "id": 1, "method": "eth_getLogs", "params": params}
            options = dict(provider.get_request_kwargs())
            options.setdefault("timeout", 30)

            def stream_from(url: str) -> tuple[Any, int]:
                with session.post(url, json=body, stream=True, **options) as response:
                    if response.status_code >= 500 or response.status_code in (408, 429):
                        raise requests.ConnectionError(f"HTTP {response.status_code}")
                    if response.status_code in (400, 413):  # a proxy's limit: a refusal, the window shrinks
                        return {"error": {"message": f"HTTP {response.status_code}"}}, -1
                    try:
                        return read_log_stream(response.iter_content(READ_CHUNK), self.target_events)
                    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                        raise ChainError(
                            f"{self.url} answered eth_getLogs with HTTP {response.status_code} and a reply "
                            f"that is not a JSON-RPC list of logs: {exc}"
                        ) from exc

            def streamed() -> tuple[Any, int]:
                # Over several nodes, the read moves to the next one as every other read does.
                if isinstance(provider, FailoverProvider):
                    return provider.failover(stream_from)
                return stream_from(str(provider.endpoint_uri))

            reply, through = with_retries(streamed, what="eth_getLogs", url=self.url)
            if through >= 0 and not start <= through < end:
                raise ChainError(
                    f"{self.url} answered eth_getLogs for blocks {start}..{end} with block {through}"
                )
        else:
            # Other transports give the reply whole: windows are still sized to the budget, but not cut.
            reply = with_retries(
                lambda: provider.make_request("eth_getLogs", params),  # type: ignore[arg-type]
                what="eth_getLogs",
                url=self.url,
            )
        if not isinstance(reply, dict) or "error" in reply or not isinstance(reply.get("result"), list):
            # Range too large, too many results, or a node-specific limit: the caller shrinks the range.
            error = reply.get("error", reply) if isinstance(reply, dict) else reply
            return LogReply(None, str(error.get("message", error) if isinstance(error, dict) else error))
        return LogReply(reply["result"], "", through)

    def _timed(self, events: list[LedgerEvent]) -> list[LedgerEvent]:
        """`events` with every block time filled in (those the logs did not carry are looked up)."""
        known: dict[int, int] = {}
        for event in events:
            if event.block_time is not None and self.use_log_timestamps:
                known[event.block_number] = event.block_time
            elif event.name in TIME_FIELDS and TIME_FIELDS[event.name] in event.args:
                known[event.block_number] = int(event.args[TIME_FIELDS[event.name]])
        missing = sorted({e.block_number for e in events if e.block_number not in known})
        known.update(self.block_times(missing))
        return [
            event
            if event.block_time == known[event.block_number]
            else replace(event, block_time=known[event.block_number])
            for event in events
        ]

    def block_times(self, blocks: Sequence[int]) -> dict[int, int]:
        """Timestamps of `blocks`, asked for in JSON-RPC batches."""
        times: dict[int, int] = {}
        for i in range(0, len(blocks), HEADER_BATCH):
            chunk = blocks[i : i + HEADER_BATCH]
            requests = [("eth_getBlockByNumber", [hex(b), False]) for b in chunk]
            replies = batch_request(self.w3, requests, what="eth_getBlockByNumber batch")
            if replies is None:
                raise ChainError(f"{self.url} refused a batch of block headers")
            for number, reply in zip(chunk, replies, strict=True):
                if "error" in reply or not reply.get("result"):
                    raise ChainError(f"{self.url} has no header for block {number}: {reply.get('error')}")
                times[number] = int(reply["result"]["timestamp"], 16)
        return times


def batch_request(w3: Web3, requests: Sequence[tuple[str, Any]], *, what: str) -> list[dict[str, Any]] | None:
    """Raw replies to a JSON-RPC batch, in order; None if the node refused the batch as a whole."""
    provider = w3.provider
    if not isinstance(provider, HTTPProvider):
        raise ChainError(f"the audit reads the ledger over HTTP JSON-RPC, not {type(provider).__name__}")
    replies: Any = with_retries(
        lambda: provider.make_batch_request(list(requests)),  # type: ignore[arg-type]
        what=what,
        url=rpc_url_of(w3),
    )
    if not isinstance(replies, list):
        return None
    # A node may answer a batch in any order; web3 numbers requests in the order given.
    return sorted(replies, key=lambda r: int(r.get("id") or 0))


def _position(event: LedgerEvent) -> tuple[int, int]:
    return (event.block_number, event.log_index)


def block_time(w3: Web3, block: int) -> int:
    """The timestamp of one block."""
    header: Any = with_retries(
        lambda: w3.eth.get_block(block), what="eth_getBlockByNumber", url=rpc_url_of(w3)
    )
    return int(header["timestamp"])


def head_block(w3: Web3) -> int:
    return int(with_retries(lambda: w3.eth.block_number, what="eth_blockNumber", url=rpc_url_of(w3)))


def block_at_time(w3: Web3, moment: int, low: int, high: int) -> int | None:
    """The last block in [low, high] whose timestamp is at or before `moment`; None if `low` is later."""
    if block_time(w3, low) > moment:
        return None
    if block_time(w3, high) <= moment:
        return high
    # Invariant: time(low) <= moment < time(high); block times never decrease.
    while high - low > 1:
        middle = (low + high) // 2
        if block_time(w3, middle) <= moment:
            low = middle
        else:
            high = middle
    return low


__all__ = [
    "LogSource",
    "UndecodableLog",
    "block_at_time",
    "block_time",
    "head_block",
    "read_log_stream",
    "time_of",
]
