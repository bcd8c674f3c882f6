"""Reading the ledger: the fast decoder agrees with the reference one, windows and block times are exact."""

from __future__ import annotations

import json
from typing import Any

import pytest
from audit_ledger import History
from eth_utils.address import to_checksum_address

from credreg.audit.replay import Replayer
from credreg.audit.source import FastDecoder, LogSource, UndecodableLog
from credreg.chain.client import connect
from credreg.chain.codec import LedgerEvent
from credreg.chain.events import EventDecoder, iter_events
from credreg.registry import Registry


def _read(history: History, **options: Any) -> list[LedgerEvent]:
    registry = history.registry
    source = LogSource(registry.w3, registry.address, FastDecoder(registry.abi), **options)
    first = registry.manifest.deployment_block
    return [e for _, _, events in source.windows(first, history.blocks["end"]) for e in events]


def test_fast_decoder_gives_the_codecs_own_events(history: History) -> None:
    registry = history.registry
    ours = _read(history)
    theirs = list(
        iter_events(
            registry.w3, registry.address, EventDecoder(registry.abi), registry.manifest.deployment_block,
            history.blocks["end"],
        )
    )  # fmt: skip
    assert len(ours) == len(theirs) > 30
    assert all(e.block_time is not None for e in theirs)  # anvil's logs carry their block's time
    for mine, ref in zip(ours, theirs, strict=True):
        assert mine == ref  # one event type, values in one shape (addresses EIP-55, hashes lowercase)
        assert list(mine.args) == list(ref.args)  # ABI order, which the digest depends on


def test_every_event_type_the_contract_emits_is_on_the_test_ledger(history: History) -> None:
    names = {e.name for e in _read(history)}
    emitted = set(FastDecoder(history.registry.abi).event_names) - {"EIP712DomainChanged"}
    assert names == emitted


def test_block_times_from_headers_equal_those_on_the_logs(history: History) -> None:
    with_logs = _read(history)
    from_headers = _read(history, use_log_timestamps=False)
    assert [e.block_time for e in with_logs] == [e.block_time for e in from_headers]
    head = history.registry.w3.eth.get_block(history.blocks["end"])
    assert with_logs[-1].block_time <= int(head["timestamp"])


def test_tiny_windows_read_the_same_events(history: History) -> None:
    assert [(e.block_number, e.log_index) for e in _read(history, window_blocks=1)] == [
        (e.block_number, e.log_index) for e in _read(history)
    ]


def _raw_log(decoder: FastDecoder, name: str, topics: list[str], data: str) -> dict[str, Any]:
    spec_topic = next(t for t, s in decoder._specs.items() if s.name == name)
    return {
        "topics": [spec_topic, *topics], "data": data, "blockNumber": "0x5", "logIndex": "0x0",
        "blockHash": "0x" + "ab" * 32, "transactionHash": "0x" + "cd" * 32, "transactionIndex": "0x0",
    }  # fmt: skip


def test_malformed_logs_are_refused_with_their_position(history: History) -> None:
    decoder = FastDecoder(history.registry.abi)
    agency = "0x" + "00" * 31 + "01"
    # uint16 reason with bits above 16 set
    bad = _raw_log(decoder, "AgencySuspended", [agency], "0x" + "00" * 29 + "010000")
    with pytest.raises(UndecodableLog, match="AgencySuspended"):
        decoder.decode(bad)
    short = _raw_log(decoder, "AgencySuspended", [agency], "0x1234")
    with pytest.raises(UndecodableLog, match="data bytes"):
        decoder.decode(short)
    unknown = dict(bad, topics=["0x" + "ee" * 32])
    with pytest.raises(UndecodableLog, match="unknown event topic"):
        decoder.decode(unknown)
    good = _raw_log(decoder, "AgencySuspended", [agency], "0x" + "00" * 31 + "0b")
    event = decoder.decode(good)
    assert (event.name, event.args, event.block_number) == (
        "AgencySuspended",
        {"agencyId": 1, "reason": 11},
        5,
    )


def test_addresses_are_in_eip55_form_everywhere(history: History) -> None:
    added = next(e for e in _read(history) if e.name == "SignerAdded")
    assert added.args["signer"] == to_checksum_address(added.args["signer"])
    assert added.args["signer"] in {a.address for a in history.accounts}


class _BesuLikeProxy:
    """A loopback JSON-RPC proxy that behaves like a stricter node: eth_getLogs over more than `max_range`
    blocks is refused, and logs carry no blockTimestamp (as Besu's do not)."""

    def __init__(self, upstream: str, max_range: int) -> None:
        import http.server
        import threading

        import httpx

        proxy = self
        self.refused = 0
        self.headers_asked = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                requests = body if isinstance(body, list) else [body]
                replies = [proxy.answer(r, upstream, httpx) for r in requests]
                data = json.dumps(replies if isinstance(body, list) else replies[0]).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.max_range = max_range
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, request: dict[str, Any], upstream: str, httpx: Any) -> dict[str, Any]:
        if request["method"] == "eth_getLogs":
            query = request["params"][0]
            if int(query["toBlock"], 16) - int(query["fromBlock"], 16) + 1 > self.max_range:
                self.refused += 1
                return {"jsonrpc": "2.0", "id": request["id"],
                        "error": {"code": -32005, "message": "exceeds maximum RPC range limit"}}  # fmt: skip
        if request["method"] == "eth_getBlockByNumber":
            self.headers_asked += 1
        reply: dict[str, Any] = httpx.post(upstream, json=request, timeout=30).json()
        if request["method"] == "eth_getLogs":
            for log in reply.get("result", []):
                log.pop("blockTimestamp", None)
        return reply

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def test_a_stricter_node_gets_small_ranges_and_header_lookups(history: History) -> None:
    proxy = _BesuLikeProxy(history.chain.url, max_range=3)
    try:
        registry = Registry(connect(proxy.url), history.registry.manifest)
        through_proxy = Replayer(registry)
        through_proxy.run(history.blocks["end"])
        direct = Replayer(history.registry)
        direct.run(history.blocks["end"])
        assert through_proxy.digest() == direct.digest()
        assert proxy.refused >= 1  # the first range was too large and shrank
        assert proxy.headers_asked >= 1  # governance blocks needed their headers
    finally:
        proxy.close()
