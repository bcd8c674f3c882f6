"""Windows of eth_getLogs stay near their log budget whatever the blocks' density, and no log is read twice."""

from __future__ import annotations

import json
from itertools import pairwise
from typing import Any

import pytest
from support.registry import ANVIL_ACCOUNTS, LedgerSpec, deploy_ledger

from credreg.audit.source import LogReply, LogSource, read_log_stream
from credreg.chain.codec import ContractCodec
from credreg.chain.devchain import DevChain
from credreg.registry import Registry

BUDGET = 20
DENSE_BLOCKS = 12
PER_BLOCK = 30  # more than the budget: a reply cut at a block boundary may hold one such block whole


def _rpc(registry: Registry, method: str, params: list[Any]) -> Any:
    reply: Any = registry.w3.provider.make_request(method, params)  # type: ignore[arg-type]
    assert "error" not in reply, reply
    return reply["result"]


def _sparse_then_dense(chain: DevChain) -> tuple[Registry, int]:
    """A registry with a few events in its first blocks, 300 blocks without any, then a dense stretch."""
    governor = ANVIL_ACCOUNTS[0]  # anvil unlocks its test accounts for eth_sendTransaction
    registry = deploy_ledger(chain.url, LedgerSpec(scopes=(), agencies=())).registry
    data = iter(
        registry.contract.encode_abi("defineScope", args=[f"9-{n:02d}-00-00", 1, f"Scope {n}"])
        for n in range(3 + DENSE_BLOCKS * PER_BLOCK)
    )
    tx = {"from": governor.address, "to": registry.address, "gas": hex(300_000)}
    for _ in range(3):
        _rpc(registry, "eth_sendTransaction", [{**tx, "data": next(data)}])
    _rpc(registry, "anvil_mine", [hex(300)])
    nonce = int(_rpc(registry, "eth_getTransactionCount", [governor.address, "pending"]), 16)
    _rpc(registry, "evm_setAutomine", [False])
    try:
        for _ in range(DENSE_BLOCKS):
            for _ in range(PER_BLOCK):
                _rpc(registry, "eth_sendTransaction", [{**tx, "data": next(data), "nonce": hex(nonce)}])
                nonce += 1
            _rpc(registry, "evm_mine", [])
    finally:
        _rpc(registry, "evm_setAutomine", [True])
    return registry, registry.head()


def test_a_dense_stretch_after_a_sparse_start_is_read_in_budget_sized_replies(chain: DevChain) -> None:
    registry, head = _sparse_then_dense(chain)
    first = registry.manifest.deployment_block
    everything = _rpc(registry, "eth_getLogs", [{"address": registry.address, "fromBlock": hex(first)}])
    assert len(everything) >= DENSE_BLOCKS * PER_BLOCK + 3

    source = LogSource(registry.w3, registry.address, ContractCodec(registry.abi), target_events=BUDGET)
    replies: list[int] = []
    fetch = source._get_logs

    def counted(start: int, end: int) -> LogReply:
        reply = fetch(start, end)
        replies.append(len(reply.logs or []))
        return reply

    source._get_logs = counted  # type: ignore[method-assign]
    windows = list(source.windows(first, head))

    events = [e for _, _, window in windows for e in window]
    assert [(e.block_number, e.log_index) for e in events] == [
        (int(log["blockNumber"], 16), int(log["logIndex"], 16)) for log in everything
    ]
    # Consecutive windows, covering every block once.
    assert windows[0][0] == first
    assert windows[-1][1] == head
    assert all(b[0] == a[1] + 1 for a, b in pairwise(windows))
    # Nothing fetched and thrown away, nothing read twice ...
    assert sum(replies) == len(events)
    # ... and no reply beyond the budget plus the rest of the block it was cut in.
    assert max(replies) <= BUDGET + PER_BLOCK - 1
    dense = [n for n in replies if n]
    assert len(dense) <= 2 * len(everything) // BUDGET + 2  # and not read in slivers either


def _reply_bytes(logs: list[dict[str, Any]]) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": 1, "result": logs}, indent=1).encode()


def _log(block: int, index: int) -> dict[str, Any]:
    return {"blockNumber": hex(block), "logIndex": hex(index), "data": "0x", "topics": ["0x" + "ab" * 32]}


def _chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def test_a_streamed_reply_is_cut_only_where_a_block_ends() -> None:
    logs = [_log(block, i) for block, count in ((5, 2), (6, 4), (7, 1), (9, 3)) for i in range(count)]
    data = _reply_bytes(logs)
    for size in (1, 7, 1 << 16):
        assert read_log_stream(_chunks(data, size), budget=100) == ({"result": logs}, -1)
        # 3 logs reached inside block 6: the rest of block 6 is kept, block 7 is not.
        assert read_log_stream(_chunks(data, size), budget=3) == ({"result": logs[:6]}, 6)
        assert read_log_stream(_chunks(data, size), budget=2) == ({"result": logs[:2]}, 5)
    assert read_log_stream([_reply_bytes([])], budget=1) == ({"result": []}, -1)


def test_a_refusal_or_a_broken_reply_is_told_apart_from_logs() -> None:
    refusal = {
        "jsonrpc": "2.0",
        "id": 1,
        "error": {"code": -32005, "message": "query returned more than 10000"},
    }
    assert read_log_stream(_chunks(json.dumps(refusal).encode(), 5), budget=10) == (refusal, -1)
    truncated = _reply_bytes([_log(1, 0), _log(2, 0)])[:-40]
    with pytest.raises(json.JSONDecodeError):
        read_log_stream([truncated], budget=10)
