"""The one log-window policy: refusals shrink windows, width limits are remembered, sizes grow back."""

from __future__ import annotations

import pytest

from credreg.chain.logs import LogRangeRefused, LogReply, LogWindows, refusal_kind, suggested_blocks

BESU = "Requested range exceeds maximum RPC range limit (code -32005)"
GETH = "query returned more than 10000 results (code -32005)"


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        (BESU, "range"),
        ("eth_getLogs is limited to a 10,000 range", "range"),
        ("block range is too wide", "range"),
        ("exceed maximum block range: 2000", "range"),
        (GETH, "size"),
        ("Log response size exceeded. this block range should work: [0x10, 0x4b7]", "size"),
        ("HTTP 413: the node refused the request", "size"),
        ("something else went wrong", ""),
    ],
)
def test_refusals_are_recognised_liberally(message: str, kind: str) -> None:
    assert refusal_kind(message) == kind


def test_a_suggested_range_is_taken_only_when_it_starts_at_the_window() -> None:
    assert suggested_blocks("Try with this block range [0x10, 0x4b7].", 0x10) == 0x4B7 - 0x10 + 1
    assert suggested_blocks("Try with this block range [0x11, 0x4b7].", 0x10) is None
    assert suggested_blocks(BESU, 0) is None


class FakeNode:
    """Refuses ranges wider than `max_range`, and windows holding more than `max_logs` logs (one per block)."""

    def __init__(self, max_range: int, max_logs: int | None = None) -> None:
        self.max_range = max_range
        self.max_logs = max_logs
        self.asked: list[tuple[int, int]] = []

    def fetch(self, start: int, end: int) -> LogReply:
        self.asked.append((start, end))
        if end - start + 1 > self.max_range:
            return LogReply(None, BESU)
        if self.max_logs is not None and end - start + 1 > self.max_logs:
            return LogReply(None, GETH)
        return LogReply([{"blockNumber": hex(b), "logIndex": "0x0"} for b in range(start, end + 1)])


def _covered(windows: list[tuple[int, int, list[dict[str, str]]]]) -> list[int]:
    return [int(log["blockNumber"], 16) for _, _, logs in windows for log in logs]


def test_a_width_limit_is_learned_once_and_every_block_is_read() -> None:
    node = FakeNode(max_range=1_000)
    policy = LogWindows(max_blocks=50_000)

    first = list(policy.read(node.fetch, 0, 9_999))
    refused = sum(1 for s, e in node.asked if e - s + 1 > 1_000)
    again = list(policy.read(node.fetch, 10_000, 19_999))

    assert _covered(first) == list(range(10_000))
    assert _covered(again) == list(range(10_000, 20_000))
    assert 1 <= refused <= 8
    assert policy.ceiling <= 1_000
    assert sum(1 for s, e in node.asked if e - s + 1 > 1_000) == refused  # not asked too wide again


def test_a_too_many_results_refusal_shrinks_the_window_but_it_grows_back() -> None:
    node = FakeNode(max_range=10_000, max_logs=500)
    policy = LogWindows(max_blocks=5_000)

    windows = list(policy.read(node.fetch, 0, 20_000))

    assert _covered(windows) == list(range(20_001))
    assert policy.ceiling == 5_000  # the width limit was never the problem
    assert max(e - s + 1 for s, e, _ in windows) <= 500


def test_a_node_refusing_even_one_block_is_an_error_after_bounded_tries() -> None:
    node = FakeNode(max_range=0)

    with pytest.raises(LogRangeRefused, match=r"refused eth_getLogs for blocks 7\.\.7"):
        list(LogWindows(max_blocks=5_000).read(node.fetch, 7, 100_000))
    assert len(node.asked) <= 20
