"""Reading the ledger: the one decoder agrees with eth_abi on every log, windows and block times are exact."""

from __future__ import annotations

import json
from typing import Any

from audit_ledger import History
from eth_utils.address import to_checksum_address

from credreg.audit.replay import Replayer
from credreg.audit.source import LogSource
from credreg.chain.client import connect
from credreg.chain.codec import ContractCodec, LedgerEvent, collapse_if_tuple, normalise
from credreg.chain.events import EventDecoder, iter_events
from credreg.registry import Registry


def _read(history: History, **options: Any) -> list[LedgerEvent]:
    registry = history.registry
    source = LogSource(registry.w3, registry.address, ContractCodec(registry.abi), **options)
    first = registry.manifest.deployment_block
    return [e for _, _, events in source.windows(first, history.blocks["end"]) for e in events]


def _by_eth_abi(abi: list[dict[str, Any]], log: Any) -> tuple[str, dict[str, Any]]:
    """The reference: a web3.py log decoded by eth_abi alone, values put in the codec's one shape."""
    from eth_abi.abi import decode

    entry = next(
        e
        for e in abi
        if e.get("type") == "event" and ContractCodec([e]).topic_of(e["name"]) == log["topics"][0].to_0x_hex()
    )
    indexed = [i for i in entry["inputs"] if i["indexed"]]
    data = [i for i in entry["inputs"] if not i["indexed"]]
    values = {
        i["name"]: normalise(i, decode([i["type"]], bytes(topic))[0])
        for i, topic in zip(indexed, log["topics"][1:], strict=True)
    }
    decoded = decode([collapse_if_tuple(i) for i in data], bytes(log["data"]))
    values.update({i["name"]: normalise(i, v) for i, v in zip(data, decoded, strict=True)})
    return entry["name"], {i["name"]: values[i["name"]] for i in entry["inputs"]}


def test_the_one_decoder_reads_every_log_as_eth_abi_does(history: History) -> None:
    registry = history.registry
    ours = _read(history)  # raw JSON-RPC replies through `ContractCodec.decode_raw`
    logs = registry.w3.eth.get_logs(
        {"address": registry.address, "fromBlock": registry.manifest.deployment_block,
         "toBlock": history.blocks["end"]}
    )  # fmt: skip
    assert len(ours) == len(logs) > 30
    for mine, log in zip(ours, logs, strict=True):
        name, expected = _by_eth_abi(registry.abi, log)
        assert mine.name == name
        assert list(mine.args.items()) == list(expected.items())  # ABI order too, which the digest needs
    # web3.py's form of the same logs (bytes and ints) gives the same events, block times included.
    theirs = list(
        iter_events(
            registry.w3, registry.address, EventDecoder(registry.abi), registry.manifest.deployment_block,
            history.blocks["end"],
        )
    )  # fmt: skip
    assert all(e.block_time is not None for e in theirs)  # anvil's logs carry their block's time
    assert ours == theirs  # one event type, values in one shape (addresses EIP-55, hashes lowercase)


def test_every_event_type_the_contract_emits_is_on_the_test_ledger(history: History) -> None:
    names = {e.name for e in _read(history)}
    emitted = set(ContractCodec(history.registry.abi).event_names) - {"EIP712DomainChanged"}
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
