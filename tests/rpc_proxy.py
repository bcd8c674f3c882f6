"""A JSON-RPC proxy of the tests' own, on loopback, that makes any node behave like one with production limits.

It forwards every request to an upstream node (anvil) and enforces a `credreg.config.NodeLimits`, by default
the `besu` node profile's, which are Hyperledger Besu's defaults:
- `--rpc-max-logs-range` 5,000: eth_getLogs over a wider block range is refused (-32005);
- `--rpc-http-max-batch-size` 1,024: a bigger JSON-RPC batch is refused as a whole (-32005);
- `--rpc-http-max-request-content-length` 5 MiB: a bigger body is answered HTTP 413.

It can also be killed and restored on the same port (connections in flight are cut), or made to stall
(take requests and never answer, as a hung node does), for failover tests.
Every refusal is counted in `refused`, so a test can show that a limit was really met.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import requests

from credreg.config import NODE_PROFILES, NodeLimits

LIMIT_EXCEEDED = -32005
STALL_SECONDS = 30.0


# The limits credreg's `besu` node profile declares: the proxy holds the settings to what Besu really does.
BESU_LIMITS = NODE_PROFILES["besu"]


class RpcProxy:
    """A threaded HTTP JSON-RPC proxy in front of `upstream`. Use as a context manager."""

    def __init__(self, upstream: str, limits: NodeLimits = BESU_LIMITS, *, port: int = 0) -> None:
        self.upstream = upstream
        self.limits = limits
        self.refused: Counter[str] = Counter()
        self.forwarded = 0
        self._port = port
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stalling = threading.Event()
        self._release = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> RpcProxy:
        """Listen (again, on the same port after `kill`)."""
        if self._server is not None:
            return self
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as web3's requests session expects

            def setup(self) -> None:
                super().setup()
                with proxy._lock:
                    proxy._connections.add(self.connection)

            def finish(self) -> None:
                with proxy._lock:
                    proxy._connections.discard(self.connection)
                with contextlib.suppress(OSError):
                    super().finish()

            def do_POST(self) -> None:
                if proxy._stalling.is_set():
                    proxy._release.wait(STALL_SECONDS)  # bounded: the test releases it, or it gives up
                    self.close_connection = True
                    return
                length = int(self.headers.get("Content-Length") or 0)
                if length > proxy.limits.max_request_bytes:
                    proxy._count("body-size")
                    self._answer(413, b"Request Entity Too Large", "text/plain")
                    self.close_connection = True
                    return
                body = self.rfile.read(length)
                status, reply = proxy.handle(body)
                self._answer(status, reply, "application/json")

            def _answer(self, status: int, body: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True
            allow_reuse_address = True

            def handle_error(self, request: object, client_address: object) -> None:
                pass  # an upstream that went away: the connection is closed unanswered, as a node's would be

        server = Server(("127.0.0.1", self._port), Handler)
        self._port = int(server.server_address[1])
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="rpc-proxy", daemon=True)
        self._thread.start()
        return self

    def kill(self) -> None:
        """Stop listening and cut every open connection, as a crashed node would."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(10)

    def stall(self) -> None:
        """Accept requests and never answer them (until `unstall`), as a hung node does."""
        self._release.clear()
        self._stalling.set()

    def unstall(self) -> None:
        self._stalling.clear()
        self._release.set()

    def __enter__(self) -> RpcProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.unstall()
        self.kill()

    # --- the limits -----------------------------------------------------------------------------------

    def _count(self, what: str) -> None:
        with self._lock:
            self.refused[what] += 1

    def handle(self, body: bytes) -> tuple[int, bytes]:
        try:
            request = json.loads(body)
        except ValueError:
            return 200, _dump(_error(None, -32700, "Parse error"))
        if isinstance(request, list):
            if len(request) > self.limits.max_batch:
                self._count("batch-size")
                return 200, _dump(_error(None, LIMIT_EXCEEDED, "Number of requests exceeds max batch size"))
            refusals = {i: self._refusal(item) for i, item in enumerate(request)}
            allowed = [item for i, item in enumerate(request) if refusals[i] is None]
            replies = self._forward(allowed) if allowed else []
            by_id = {json.dumps(r.get("id")): r for r in replies} if isinstance(replies, list) else {}
            merged = [
                refusals[i] or by_id.get(json.dumps(item.get("id")), _error(item.get("id"), -32603, "lost"))
                for i, item in enumerate(request)
            ]
            return 200, _dump(merged)
        refusal = self._refusal(request)
        if refusal is not None:
            return 200, _dump(refusal)
        return 200, _dump(self._forward(request))

    def _refusal(self, request: Any) -> dict[str, Any] | None:
        if not isinstance(request, dict) or request.get("method") != "eth_getLogs":
            return None
        params = request.get("params") or [{}]
        query = params[0] if isinstance(params, list) and params and isinstance(params[0], dict) else {}
        if "blockHash" in query:
            return None
        low, high = (self._block(query.get(k)) for k in ("fromBlock", "toBlock"))
        if high - low + 1 > self.limits.max_logs_range:
            self._count("logs-range")
            return _error(
                request.get("id"), LIMIT_EXCEEDED, "Requested range exceeds maximum RPC range limit"
            )
        return None

    def _block(self, tag: Any) -> int:
        if isinstance(tag, str) and tag.startswith("0x"):
            return int(tag, 16)
        if tag == "earliest":
            return 0
        reply = self._forward({"jsonrpc": "2.0", "id": 0, "method": "eth_blockNumber", "params": []})
        return int(reply["result"], 16)

    def _forward(self, request: Any) -> Any:
        with self._lock:
            self.forwarded += 1
        # A connection per request (closed at once): handler threads share no client state.
        response = requests.post(self.upstream, json=request, timeout=60)
        return response.json()


def _error(request_id: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}


def _dump(value: Any) -> bytes:
    return json.dumps(value).encode()


@contextlib.contextmanager
def node_limits_proxy(upstream: str, limits: NodeLimits = BESU_LIMITS) -> Iterator[RpcProxy]:
    with RpcProxy(upstream, limits) as proxy:
        yield proxy
