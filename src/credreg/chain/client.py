"""A JSON-RPC connection to any EVM chain, with retries on transient faults and readable errors.

Only standard `eth_*` methods are used, so the same code runs against the embedded anvil, Hyperledger Besu
and GoQuorum.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from web3 import HTTPProvider, Web3
from web3.exceptions import BadResponseFormat
from web3.providers.rpc.utils import ExceptionRetryConfiguration

from credreg.chain.redact import redact, redact_url
from credreg.errors import ChainUnreachable, ConfigError

T = TypeVar("T")

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    requests.ConnectionError,
    requests.Timeout,
    ConnectionError,
    TimeoutError,
)


# HTTP answers a proxy or load balancer gives while the node behind it is down or busy: worth retrying.
TRANSIENT_HTTP_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
RPC_SCHEMES = ("http", "https")


def check_rpc_url(url: str) -> str:
    """`url` if it can name a JSON-RPC node over HTTP(S); otherwise ConfigError saying what is wrong."""
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
    return url.strip()


def connect(rpc_url: str, *, timeout: float = 30.0, retries: int = 0) -> Web3:
    """A Web3 client for `rpc_url`.

    By default retries live in one place, `with_retries` around each library call, not also inside the
    HTTP provider: nested retries multiply, and an unreachable node would take many seconds to report.
    `retries` adds provider-level retries of idempotent reads for callers that do not use `with_retries`.
    """
    rpc_url = check_rpc_url(rpc_url)
    retry = (
        ExceptionRetryConfiguration(errors=TRANSIENT_ERRORS, retries=retries, backoff_factor=0.2)
        if retries
        else None
    )
    return Web3(
        HTTPProvider(rpc_url, request_kwargs={"timeout": timeout}, exception_retry_configuration=retry)
    )


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
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else 0
            if status not in TRANSIENT_HTTP_STATUS:
                raise not_a_node(url, what, f"HTTP {status}") from exc
            failure: BaseException = exc
        except (json.JSONDecodeError, BadResponseFormat) as exc:
            raise not_a_node(url, what, "a reply that is not JSON-RPC") from exc
        except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
                requests.exceptions.InvalidSchema) as exc:  # fmt: skip
            raise ConfigError(f"the RPC URL {redact_url(url)!r} cannot be used: {redact(str(exc))}") from exc
        except TRANSIENT_ERRORS as exc:
            failure = exc
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


def chain_id(w3: Web3) -> int:
    return with_retries(lambda: int(w3.eth.chain_id), what="eth_chainId", url=rpc_url_of(w3))


def rpc_url_of(w3: Web3) -> str:
    """The node's URL as a person may see it: credentials masked (see `credreg.chain.redact`)."""
    return redact_url(str(getattr(w3.provider, "endpoint_uri", "?")))


def raw_request(w3: Web3, method: str, params: list[Any]) -> Any:
    """A plain JSON-RPC call, for methods web3.py has no wrapper for."""
    reply = w3.provider.make_request(method, params)  # type: ignore[arg-type]
    if "error" in reply:
        raise ChainUnreachable(f"{method} failed: {redact(str(reply['error']))}")
    return reply["result"]
