"""A JSON-RPC connection to any EVM chain, with retries on transient faults and readable errors.

Only standard `eth_*` methods are used, so the same code runs against the embedded anvil, Hyperledger Besu
and GoQuorum.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from web3 import HTTPProvider, Web3
from web3.providers.rpc.utils import ExceptionRetryConfiguration

from credreg.chain.redact import redact, redact_url
from credreg.errors import ChainUnreachable

T = TypeVar("T")

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    requests.ConnectionError,
    requests.Timeout,
    ConnectionError,
    TimeoutError,
)


def connect(rpc_url: str, *, timeout: float = 30.0, retries: int = 0) -> Web3:
    """A Web3 client for `rpc_url`.

    By default retries live in one place, `with_retries` around each library call, not also inside the
    HTTP provider: nested retries multiply, and an unreachable node would take many seconds to report.
    `retries` adds provider-level retries of idempotent reads for callers that do not use `with_retries`.
    """
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
    """Run `action`, retrying transient network faults; raise ChainUnreachable when they persist."""
    for attempt in range(attempts):
        try:
            return action()
        except TRANSIENT_ERRORS as exc:
            if attempt == attempts - 1:
                raise ChainUnreachable(
                    f"the chain at {redact_url(url)} did not answer ({what}): {redact(str(exc))}"
                ) from exc
            time.sleep(backoff * 2**attempt)
    raise AssertionError("unreachable")  # pragma: no cover


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
