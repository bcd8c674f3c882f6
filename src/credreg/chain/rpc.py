"""Plain JSON-RPC 2.0 over HTTP(S), with the standard library alone: the transport of the registry's reads.

`credreg verify one.json` must start, read the ledger and answer in well under half a second; web3.py and
its dependencies take half a second just to import. Reads need no more than this: a POST of a JSON request
(or a batch of them) on a kept-alive connection, and the JSON reply. Writes (signing, gas, nonces) still go
through web3.py (`credreg.chain.client.connect`), as do several nodes with failover (`FailoverProvider`)
and a node behind an HTTP proxy named in the environment (`uses_proxy`).

The retry rule of every ledger call (`with_retries`) lives here too, so that it can be used without
importing web3.py; it recognises the errors of this transport and of web3.py's alike.
"""

from __future__ import annotations

import base64
import http.client
import itertools
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar
from urllib.parse import unquote, urlsplit

import orjson

from credreg.chain.redact import redact, redact_url
from credreg.errors import ChainUnreachable, ConfigError

T = TypeVar("T")

# HTTP answers a proxy or load balancer gives while the node behind it is down or busy: worth retrying.
TRANSIENT_HTTP_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
RPC_SCHEMES = ("http", "https")


class RpcTransport(Protocol):
    """What the registry's reads need of a connection: one request, or a batch answered in request order."""

    @property
    def url(self) -> str: ...

    def request(self, method: str, params: list[Any]) -> dict[str, Any]: ...

    def batch(self, requests: Sequence[tuple[str, list[Any]]]) -> list[dict[str, Any]] | dict[str, Any]: ...


class RpcHttpError(OSError):
    """The endpoint answered with an HTTP status other than 200."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"HTTP {status} {reason}".strip())
        self.status = status


class NotJsonRpc(ValueError):
    """The endpoint answered 200 with something that is not JSON-RPC."""


class RpcConnectionError(ConnectionError):
    """The endpoint could not be reached, or dropped the connection (retried by `with_retries`)."""


class HttpRpc:
    """JSON-RPC over HTTP(S) to one node, on kept-alive connections (one per request in flight, up to
    `IDLE` kept between requests; `close()`, or collecting the transport, closes them).

    Reads are idempotent, so a kept-alive connection the server has meanwhile closed is reopened and the
    request sent once more at once; any other failure is the caller's (`with_retries`) to retry.
    """

    IDLE = 8

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        _check_one_url(url)
        parts = urlsplit(url.strip())
        self._endpoint = url.strip()
        self._https = parts.scheme.lower() == "https"
        self._host = parts.hostname or ""
        self._port = parts.port
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if parts.username is not None:
            login = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
            self._headers["Authorization"] = "Basic " + base64.b64encode(login).decode()
        self._timeout = timeout
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._idle: list[http.client.HTTPConnection] = []

    @property
    def url(self) -> str:
        """The node's URL as given (`redact_url` it before showing it)."""
        return self._endpoint

    def request(self, method: str, params: list[Any]) -> dict[str, Any]:
        reply = self._post({"jsonrpc": "2.0", "method": method, "params": params, "id": next(self._ids)})
        if not isinstance(reply, dict):
            raise NotJsonRpc(f"{method} was answered with {type(reply).__name__}, not a JSON-RPC object")
        return reply

    def batch(self, requests: Sequence[tuple[str, list[Any]]]) -> list[dict[str, Any]] | dict[str, Any]:
        """The replies in request order; the node's one error object if it refused the batch as a whole."""
        with self._lock:
            first = next(self._ids)
            self._ids = itertools.count(first + len(requests))
        payload = [
            {"jsonrpc": "2.0", "method": method, "params": params, "id": first + i}
            for i, (method, params) in enumerate(requests)
        ]
        reply = self._post(payload)
        if isinstance(reply, dict):
            return reply
        if not isinstance(reply, list) or not all(isinstance(r, dict) for r in reply):
            raise NotJsonRpc("a batch was answered with something other than a list of JSON-RPC objects")
        # A node may answer a batch in any order.
        return sorted(reply, key=lambda r: r.get("id") if isinstance(r.get("id"), int) else -1)

    def close(self) -> None:
        """Close the kept-alive connections (a later request opens a new one)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    def __del__(self) -> None:
        # No module globals (contextlib.suppress): they may be gone when the interpreter shuts down.
        try:  # noqa: SIM105
            self.close()
        except Exception:  # noqa: S110
            pass

    def _take(self) -> tuple[http.client.HTTPConnection, bool]:
        with self._lock:
            if self._idle:
                return self._idle.pop(), True
        kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        return kind(self._host, self._port, timeout=self._timeout), False

    def _give_back(self, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            if len(self._idle) < self.IDLE:
                self._idle.append(connection)
                return
        connection.close()

    def _post(self, message: Any) -> Any:
        body = _json_body(message)
        for attempt in range(2):
            connection, reused = self._take()
            try:
                connection.request("POST", self._path, body, self._headers)
                response = connection.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                connection.close()
                if reused and attempt == 0:
                    continue  # the server closed the idle connection: once more, on a new one
                raise RpcConnectionError(f"{redact_url(self._endpoint)}: {exc}") from exc
            except (OSError, http.client.HTTPException) as exc:
                connection.close()
                if isinstance(exc, TimeoutError):
                    raise
                raise RpcConnectionError(f"{redact_url(self._endpoint)}: {exc}") from exc
            if response.will_close:
                connection.close()
            else:
                self._give_back(connection)
            if response.status != 200:
                raise RpcHttpError(response.status, response.reason)
            try:
                return _json_reply(data)
            except ValueError as exc:
                raise NotJsonRpc(f"the reply is not JSON: {exc}") from exc
        raise AssertionError("unreachable")  # pragma: no cover


# Status reads send megabytes of hex a batch: orjson writes and reads them many times faster than `json`
# (writing the reader calls of 10,000 documents took 2 µs a document, 0.02 with orjson).


def _json_body(message: Any) -> bytes:
    """`message` as compact JSON; `json` for what orjson does not write (an integer beyond 64 bits)."""
    try:
        return orjson.dumps(message)
    except TypeError:  # orjson.JSONEncodeError
        return json.dumps(message, separators=(",", ":")).encode()


def _json_reply(data: bytes) -> Any:
    """The JSON `data`. orjson reads an integer beyond 64 bits as a float, so a reply with such a number (a
    JSON-RPC reply has none: quantities are hex strings) is read again by `json`, exactly."""
    value = orjson.loads(data)
    if _has_float(value):
        return json.loads(data)
    return value


def _has_float(value: Any) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, dict):
        return any(_has_float(v) for v in value.values() if not isinstance(v, str))
    if isinstance(value, list):
        return any(_has_float(v) for v in value if not isinstance(v, str))
    return False


class ProviderRpc:
    """The same calls through a web3.py provider, for a registry built on a `Web3` (several nodes with
    failover, or a provider a test set up)."""

    def __init__(self, provider: Any) -> None:
        self.provider = provider

    @property
    def url(self) -> str:
        return str(getattr(self.provider, "endpoint_uri", "?"))

    def request(self, method: str, params: list[Any]) -> dict[str, Any]:
        return dict(self.provider.make_request(method, params))

    def batch(self, requests: Sequence[tuple[str, list[Any]]]) -> list[dict[str, Any]] | dict[str, Any]:
        replies = self.provider.make_batch_request(list(requests))
        if not isinstance(replies, list):
            return dict(replies)
        return sorted((dict(r) for r in replies), key=lambda r: int(r.get("id") or 0))


_PROXY_SETTINGS = ("http_proxy", "https_proxy", "all_proxy")


def uses_proxy() -> bool:
    """Whether the environment names an HTTP proxy (`HttpRpc` does not go through one)."""
    return any(os.environ.get(name) or os.environ.get(name.upper()) for name in _PROXY_SETTINGS)


def split_rpc_urls(urls: str) -> list[str]:
    """The node URLs in a comma-separated setting, in order, each once."""
    found: list[str] = []
    for part in urls.split(","):
        if part.strip() and part.strip() not in found:
            found.append(part.strip())
    return found


def check_rpc_url(urls: str) -> str:
    """`urls` (one node URL, or several comma-separated) if each can name a JSON-RPC node over HTTP(S);
    otherwise ConfigError saying which is wrong."""
    parts = split_rpc_urls(urls)
    if not parts:
        raise ConfigError("no RPC URL given (--rpc-url / CREDREG_RPC_URL / CREDREG_RPC_URLS)")
    for url in parts:
        _check_one_url(url)
    return ",".join(parts)


def _check_one_url(url: str) -> None:
    try:
        parts = urlsplit(url.strip())
        host, _port = parts.hostname, parts.port
    except ValueError as exc:
        raise ConfigError(f"the RPC URL {redact_url(url)!r} is not a URL: {exc}") from None
    if parts.scheme.lower() not in RPC_SCHEMES or not host or any(c.isspace() for c in url.strip()):
        raise ConfigError(
            f"the RPC URL {redact_url(url)!r} is not an http:// or https:// URL naming a host "
            f"(for example http://127.0.0.1:8545)"
        )


def _kind_of(exc: BaseException) -> str | None:
    """How `with_retries` treats an error: "http" (look at the status), "not-json-rpc", "bad-url",
    "transient", or None (not a transport error: raised as is). web3.py's and requests' errors are known
    only once something imported them, so none can be raised before."""
    if isinstance(exc, RpcHttpError):
        return "http"
    if isinstance(exc, NotJsonRpc | json.JSONDecodeError):
        return "not-json-rpc"
    requests = sys.modules.get("requests")
    if requests is not None:
        if isinstance(exc, requests.HTTPError):
            return "http"
        bad_url = (
            requests.exceptions.InvalidURL,
            requests.exceptions.MissingSchema,
            requests.exceptions.InvalidSchema,
        )
        if isinstance(exc, bad_url):
            return "bad-url"
        if isinstance(exc, requests.ConnectionError | requests.Timeout):
            return "transient"
    web3_errors = sys.modules.get("web3.exceptions")
    if web3_errors is not None and isinstance(exc, web3_errors.BadResponseFormat):
        return "not-json-rpc"
    if isinstance(exc, ConnectionError | TimeoutError):
        return "transient"
    return None


def _status_of(exc: BaseException) -> int:
    if isinstance(exc, RpcHttpError):
        return exc.status
    response = getattr(exc, "response", None)
    return int(getattr(response, "status_code", 0) or 0)


def with_retries(
    action: Callable[[], T], *, what: str, url: str, attempts: int = 4, backoff: float = 0.25
) -> T:
    """Run `action`, retrying transient network faults; raise ChainUnreachable when they persist.

    An endpoint that answers, but not as a JSON-RPC node (a web page, "405 Method Not Allowed"), is named as
    such at once; so is a URL that cannot be requested at all.
    """
    for attempt in range(attempts):
        try:
            return action()
        except Exception as exc:
            kind = _kind_of(exc)
            if kind is None:
                raise
            if kind == "http" and _status_of(exc) not in TRANSIENT_HTTP_STATUS:
                raise not_a_node(url, what, f"HTTP {_status_of(exc)}") from exc
            if kind == "not-json-rpc":
                raise not_a_node(url, what, "a reply that is not JSON-RPC") from exc
            if kind == "bad-url":
                raise ConfigError(
                    f"the RPC URL {redact_url(url)!r} cannot be used: {redact(str(exc))}"
                ) from exc
            failure: BaseException = exc
        if attempt == attempts - 1:
            raise ChainUnreachable(
                f"the chain at {redact_url(url)} did not answer ({what}): {redact(str(failure))}"
            ) from failure
        time.sleep(backoff * 2**attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def not_a_node(url: str, what: str, answer: str) -> ChainUnreachable:
    return ChainUnreachable(
        f"{redact_url(url)} is not a JSON-RPC node: it answered {what} with {answer}; "
        f"check the RPC URL (--rpc-url / CREDREG_RPC_URL)"
    )


__all__ = [
    "RPC_SCHEMES",
    "TRANSIENT_HTTP_STATUS",
    "HttpRpc",
    "NotJsonRpc",
    "ProviderRpc",
    "RpcConnectionError",
    "RpcHttpError",
    "RpcTransport",
    "check_rpc_url",
    "not_a_node",
    "split_rpc_urls",
    "uses_proxy",
    "with_retries",
]
