"""The one way credreg reads logs: `eth_getLogs` in block windows that adapt to what the node allows.

Nodes limit log queries differently: Besu refuses ranges wider than `--rpc-max-logs-range` (5,000 blocks
by default), geth-based gateways refuse replies with more than 10,000 logs, hosted gateways cap the reply
size, and a proxy may answer HTTP 413. `LogWindows` reads any range window by window:

- a refused window is shrunk (to the range the node suggests when it names one) and read again. A refusal
  of the range's *width* (or one that does not say why) halves it and makes that the ceiling windows may
  grow to; a refusal for *too many results* quarters it but keeps the ceiling, since the next blocks may be
  sparse again;
- after each window the next one grows again (at most `WINDOW_GROWTH` times, up to the ceiling), or, with
  `target_events`, is sized from the density just seen so that each holds about that many logs;
- refusals are bounded: a node that refuses even one block, or keeps refusing, raises `LogRangeRefused`.

The transport is pluggable: `rpc_fetch` sends plain JSON-RPC through the web3 provider (the service's
index and outbox); the audit passes its own streamed reader, which may cut a dense reply at a block boundary
(`LogReply.through`). The window policy is the same for all.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import requests
from eth_utils.address import to_checksum_address
from web3 import Web3

from credreg.chain.client import rpc_url_of, with_retries
from credreg.chain.redact import redact
from credreg.errors import ChainError

# Besu refuses eth_getLogs over more than 5,000 blocks by default (--rpc-max-logs-range); a window never
# grows past it unless the caller says the node allows more.
MAX_WINDOW_BLOCKS = 5_000
# A window spans at most this many times the blocks of the one before: a sparse stretch says little about the
# blocks after it, and a bounded step keeps the reply that runs into a dense stretch short.
WINDOW_GROWTH = 4
# Refusals in a row before giving up: enough to shrink from any window to one block, a few times over.
MAX_REFUSALS = 40

# How nodes say a log query is too wide or too big (Besu, geth, Erigon, Nethermind, GoQuorum, hosted
# gateways, proxies). Matched liberally: shrinking a window that did not need it costs one more request.
_RANGE_WORDS = re.compile(
    r"(?i)(block range|range limit|max(imum)? (rpc |block )?range|range (is )?too (large|wide|big)|"
    r"exceeds? (the )?max(imum)?.*range|ranges? over|range of more than|too many blocks|"
    r"limited to (a )?[\d,]+ (block )?range|query (is )?too (large|wide))"
)
_SIZE_WORDS = re.compile(
    r"(?i)(more than [\d,]+ results|too many (results|logs)|response (size|too large)|"
    r"result (set )?too large|limit exceeded|query timeout|timed? ?out|413|payload too large)"
)
_SUGGESTED = re.compile(r"\[\s*(0x[0-9a-fA-F]+|\d+)\s*,\s*(0x[0-9a-fA-F]+|\d+)\s*\]")


class LogRangeRefused(ChainError):
    """The node refused eth_getLogs even for a single block, or kept refusing every window offered."""


class LogReply(NamedTuple):
    """What one eth_getLogs for [start, end] gave: the logs of [start, through], or the node's refusal.

    `through` is -1 when the whole reply was read, else the block where it was cut (once it held a budget).
    """

    logs: list[dict[str, Any]] | None
    refusal: str = ""
    through: int = -1


Fetch = Callable[[int, int], LogReply]


def refusal_kind(message: str) -> str:
    """ "range" when a node refused a log query for its width, "size" for the size of its answer, else ""."""
    if _SIZE_WORDS.search(message):
        return "size"
    if _RANGE_WORDS.search(message):
        return "range"
    return ""


def suggested_blocks(message: str, start: int) -> int | None:
    """The window a node's refusal suggests ("Try with this block range [0x10, 0x4b7]"), if it names one."""
    found = _SUGGESTED.search(message)
    if not found:
        return None
    low, high = (int(v, 16) if v.startswith("0x") else int(v) for v in found.groups())
    if high < low or low != start:
        return None
    return high - low + 1


def rpc_fetch(w3: Web3, address: str, topics: Sequence[Any] | None = None) -> Fetch:
    """A transport for `LogWindows`: plain `eth_getLogs` through `w3`'s provider, retried on network faults.

    A JSON-RPC error, and an HTTP answer that refuses the request itself (400, 413), come back as a refusal
    for the window policy to judge; an endpoint that does not answer raises ChainUnreachable.
    """
    checksummed = to_checksum_address(address)
    url = rpc_url_of(w3)
    provider = w3.provider

    def fetch(start: int, end: int) -> LogReply:
        query: dict[str, Any] = {"address": checksummed, "fromBlock": hex(start), "toBlock": hex(end)}
        if topics is not None:
            query["topics"] = list(topics)

        def ask() -> Any:
            try:
                return provider.make_request("eth_getLogs", [query])  # type: ignore[arg-type]
            except requests.HTTPError as exc:
                status = exc.response.status_code if exc.response is not None else 0
                if status in (400, 413):
                    return {"error": {"message": f"HTTP {status}: the node refused the request"}}
                raise

        reply = with_retries(ask, what="eth_getLogs", url=url)
        if not isinstance(reply, dict) or "error" in reply or not isinstance(reply.get("result"), list):
            error = reply.get("error", reply) if isinstance(reply, dict) else reply
            message = error.get("message", error) if isinstance(error, dict) else error
            code = error.get("code") if isinstance(error, dict) else None
            return LogReply(None, redact(f"{message} (code {code})" if code is not None else str(message)))
        return LogReply(reply["result"])

    return fetch


@dataclass
class LogWindows:
    """The window policy, and the loop reading a block range with it. Keep one per node and contract: what
    it learns of the node's limits (the ceiling) carries over from one `read` to the next."""

    max_blocks: int = MAX_WINDOW_BLOCKS
    first_blocks: int | None = None  # default: start at the ceiling
    target_events: int | None = None  # size windows to hold about this many logs (the audit's memory budget)
    max_refusals: int = MAX_REFUSALS
    _ceiling: int = field(init=False, default=0)
    _size: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self._ceiling = max(1, self.max_blocks)
        self._size = max(1, min(self._ceiling, self.first_blocks or self._ceiling))

    @property
    def ceiling(self) -> int:
        """The widest window the node is known to accept (or `max_blocks`)."""
        return self._ceiling

    def read(
        self, fetch: Fetch, from_block: int, to_block: int, *, prefetch: bool = False
    ) -> Iterator[tuple[int, int, list[dict[str, Any]]]]:
        """(first block, last block, raw logs) for consecutive windows covering [from_block, to_block].

        With `prefetch`, the next window is fetched in a background thread while the caller handles the
        current one (at most two windows are held at once).
        """
        if from_block > to_block:
            return
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="credreg-logs") if prefetch else None

        def submit(start: int, end: int) -> Future[LogReply] | LogReply:
            return pool.submit(fetch, start, end) if pool is not None else fetch(start, end)

        def result(pending: Future[LogReply] | LogReply) -> LogReply:
            return pending.result() if isinstance(pending, Future) else pending

        try:
            start, end = from_block, min(to_block, from_block + self._size - 1)
            pending = submit(start, end)
            refusals = 0
            while True:
                reply = result(pending)
                logs = reply.logs
                if logs is None:
                    refusals += 1
                    if end == start or refusals > self.max_refusals:
                        raise LogRangeRefused(
                            f"the node refused eth_getLogs for blocks {start}..{end} "
                            f"({refusals} refusals in a row): {reply.refusal}"
                        )
                    end = min(to_block, start + self._shrink(start, end, reply.refusal) - 1)
                    pending = submit(start, end)
                    continue
                refusals = 0
                blocks, count = end - start + 1, len(logs)
                if 0 <= reply.through < end:
                    end = reply.through
                    # The blocks past the cut are dense: their density is that of the blocks with logs, not
                    # of the window's empty start.
                    blocks = end - _block_of(logs[0]) + 1
                self._grow(blocks, count)
                following = end + 1
                if following <= to_block:
                    next_end = min(to_block, following + self._size - 1)
                    pending = submit(following, next_end)
                yield start, end, [log for log in logs if not log.get("removed")]
                if following > to_block:
                    return
                start, end = following, next_end
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)

    def _shrink(self, start: int, end: int, refusal: str) -> int:
        width = end - start + 1
        suggested = suggested_blocks(refusal, start)
        if refusal_kind(refusal) == "size":
            self._size = max(1, min(width - 1, suggested or width // 4, self._ceiling))
        else:
            # A limit on the width (or an unexplained refusal): windows must not grow back into it.
            self._size = max(1, min(width - 1, suggested or width // 2))
            self._ceiling = min(self._ceiling, self._size)
        return self._size

    def _grow(self, blocks: int, count: int) -> None:
        grown = min(self._ceiling, max(1, blocks) * WINDOW_GROWTH)
        if self.target_events and count:
            self._size = max(1, min(grown, self.target_events * blocks // count))
        else:
            self._size = grown


def _block_of(log: dict[str, Any]) -> int:
    value = log["blockNumber"]
    return int(value, 16) if isinstance(value, str) else int(value)


def read_logs(
    w3: Web3,
    address: str,
    from_block: int,
    to_block: int,
    *,
    topics: Sequence[Any] | None = None,
    windows: LogWindows | None = None,
) -> Iterator[tuple[int, int, list[dict[str, Any]]]]:
    """Raw logs of `address` (matching `topics`) in [from_block, to_block], window by window."""
    policy = windows or LogWindows()
    yield from policy.read(rpc_fetch(w3, address, topics), from_block, to_block)
