"""A JSON-RPC connection to any EVM chain, with retries on transient faults and readable errors.

The registry's reads go through the plain transport of `credreg.chain.rpc` (one node) or through this
module's providers (several nodes); writes always come here. Only standard `eth_*` methods are used, so the same code runs against the embedded anvil, Hyperledger Besu
and GoQuorum.

Several nodes of one network can be named (comma-separated: `CREDREG_RPC_URLS`, or `--rpc-url` given more
than once). `FailoverProvider` then sends each request to the first healthy node in the order given and
moves on to the next one when a node does not answer, times out or answers as no node would; a failed node
is skipped for a cool-down that grows while it keeps failing. Every node must serve the same network, the
same chain id and genesis block: one that does not is refused with an error naming it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import requests
from eth_typing import URI
from web3 import HTTPProvider, Web3
from web3._utils.batching import sort_batch_response_by_response_ids
from web3.providers.rpc.utils import ExceptionRetryConfiguration
from web3.types import RPCEndpoint, RPCResponse

from credreg.chain.redact import redact, redact_url
from credreg.chain.rpc import TRANSIENT_HTTP_STATUS
from credreg.chain.rpc import check_rpc_url as check_rpc_url
from credreg.chain.rpc import split_rpc_urls as split_rpc_urls
from credreg.chain.rpc import with_retries as with_retries
from credreg.errors import ChainUnreachable, ConfigError, WrongChain

log = logging.getLogger(__name__)

T = TypeVar("T")

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    requests.ConnectionError,
    requests.Timeout,
    ConnectionError,
    TimeoutError,
)


def connect(rpc_url: str, *, timeout: float = 30.0, retries: int = 0) -> Web3:
    """A Web3 client for `rpc_url` (several comma-separated URLs: a `FailoverProvider` over them).

    By default retries live in one place, `with_retries` around each library call, not also inside the
    HTTP provider: nested retries multiply, and an unreachable node would take many seconds to report.
    `retries` adds provider-level retries of idempotent reads for callers that do not use `with_retries`.
    """
    urls = split_rpc_urls(check_rpc_url(rpc_url))
    if len(urls) > 1:
        return Web3(FailoverProvider(urls, timeout=timeout))
    retry = (
        ExceptionRetryConfiguration(errors=TRANSIENT_ERRORS, retries=retries, backoff_factor=0.2)
        if retries
        else None
    )
    return Web3(
        HTTPProvider(urls[0], request_kwargs={"timeout": timeout}, exception_retry_configuration=retry)
    )


# A failed node is skipped for COOL_DOWN seconds, doubling while it keeps failing, up to MAX_COOL_DOWN.
COOL_DOWN = 1.0
MAX_COOL_DOWN = 30.0


@dataclass
class EndpointHealth:
    """What is known of one node: whether it serves the network, and how it has been answering."""

    url: str
    failures: int = 0  # in a row
    down_until: float = 0.0
    identity: tuple[int, str] | None = None  # (chain id, genesis block hash) once checked
    refused: str = ""  # why it is not used, if it serves another network
    last_error: str = ""

    @property
    def shown(self) -> str:
        return redact_url(self.url)


class FailoverProvider(HTTPProvider):
    """An HTTP JSON-RPC provider over several nodes of one network, failing over between them.

    `endpoint_uri` is the node most recently used; `health()` tells how each is doing.
    """

    def __init__(self, urls: Sequence[str], *, timeout: float = 30.0) -> None:
        if not urls:
            raise ConfigError("a failover connection needs at least one node URL")
        super().__init__(urls[0], request_kwargs={"timeout": timeout}, exception_retry_configuration=None)
        self._nodes = [EndpointHealth(url) for url in urls]
        self._lock = threading.Lock()
        self._identity: tuple[int, str] | None = None
        self._checked_all = False

    def health(self) -> list[EndpointHealth]:
        with self._lock:
            return [EndpointHealth(**vars(node)) for node in self._nodes]

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        data = self.encode_rpc_request(method, params)
        return cast(RPCResponse, self._failover(lambda url: self.decode_rpc_response(self._post(url, data))))

    def make_batch_request(self, batch_requests: list[tuple[RPCEndpoint, Any]]) -> Any:
        data = self.encode_batch_rpc_request(batch_requests)

        def one(url: str) -> Any:
            response = self.decode_rpc_response(self._post(url, data))
            if not isinstance(response, list):
                return response  # the node refused the batch as a whole
            return sort_batch_response_by_response_ids(response)

        return self._failover(one)

    def failover(self, action: Callable[[str], T]) -> T:
        """`action(url)` on the first healthy node, moving on (and tracking health) as the others do: for
        callers that talk to a node themselves, e.g. the audit streaming a large eth_getLogs reply."""
        result: T = self._failover(action)
        return result

    def _post(self, url: str, data: bytes) -> bytes:
        return self._request_session_manager.make_post_request(URI(url), data, **self.get_request_kwargs())

    def _order(self) -> list[EndpointHealth]:
        """Healthy nodes in the order given, then those cooling down, soonest back first."""
        now = time.monotonic()
        with self._lock:
            usable = [n for n in self._nodes if not n.refused]
            ready = [n for n in usable if n.down_until <= now]
            cooling = sorted((n for n in usable if n.down_until > now), key=lambda n: n.down_until)
        return ready + cooling

    def _failover(self, action: Callable[[str], Any]) -> Any:
        if not self._checked_all:
            self._check_all()
        failure: BaseException | None = None
        for node in self._order():
            try:
                if node.identity is None:
                    self._check(node)
                    if node.refused:
                        continue
                result = action(node.url)
            except (requests.RequestException, OSError, ValueError) as exc:
                if isinstance(exc, requests.HTTPError) and not _node_down(exc):
                    raise  # the node answered, and refused this request: another would too
                self._failed(node, exc)
                failure = exc
                continue
            self._succeeded(node)
            return result
        if failure is not None:
            raise failure
        refused = "; ".join(f"{n.shown}: {n.refused}" for n in self._nodes if n.refused)
        raise WrongChain(f"no node serves the network: {refused}")

    def _failed(self, node: EndpointHealth, exc: BaseException) -> None:
        with self._lock:
            node.failures += 1
            node.down_until = time.monotonic() + min(MAX_COOL_DOWN, COOL_DOWN * 2 ** (node.failures - 1))
            node.last_error = redact(str(exc))
        log.warning("node %s failed (%s); trying the next", node.shown, node.last_error)

    def _succeeded(self, node: EndpointHealth) -> None:
        with self._lock:
            if node.failures:
                log.info("node %s answers again", node.shown)
            node.failures, node.down_until, node.last_error = 0, 0.0, ""
            self.endpoint_uri = node.url  # type: ignore[assignment]

    # --- one network ----------------------------------------------------------------------------------

    def _identity_of(self, url: str) -> tuple[int, str]:
        replies = []
        for method, params in (("eth_chainId", []), ("eth_getBlockByNumber", ["0x0", False])):
            reply = self.decode_rpc_response(self._post(url, self.encode_rpc_request(method, params)))  # type: ignore[arg-type]
            if "error" in reply or reply.get("result") is None:
                raise ValueError(f"{method} gave no answer: {redact(str(reply.get('error')))}")
            replies.append(reply["result"])
        chain, genesis = replies
        return int(chain, 16), str(genesis["hash"])

    def _check(self, node: EndpointHealth) -> None:
        """Learn which network `node` serves (raises the transport's error if it does not answer)."""
        identity = self._identity_of(node.url)
        with self._lock:
            node.identity = identity
            if self._identity is None:
                self._identity = identity
            elif identity != self._identity:
                node.refused = (
                    f"serves chain {identity[0]} with genesis {identity[1]}, but the other nodes serve chain "
                    f"{self._identity[0]} with genesis {self._identity[1]}"
                )
        if node.refused:
            log.error("node %s is not used: it %s", node.shown, node.refused)

    def _check_all(self) -> None:
        """On first use: every node that answers must serve one network, or the configuration is refused."""
        for node in self._nodes:
            try:
                self._check(node)
            except (requests.RequestException, OSError, ValueError) as exc:
                self._failed(node, exc)  # checked when it answers
        self._checked_all = True
        refused = [n for n in self._nodes if n.refused]
        if refused:
            raise WrongChain(
                "the RPC nodes given do not serve one network: "
                + "; ".join(f"{n.shown} {n.refused}" for n in refused)
                + "; every URL in CREDREG_RPC_URLS / --rpc-url must name a node of the same network"
            )


def _node_down(exc: requests.HTTPError) -> bool:
    status = exc.response.status_code if exc.response is not None else 0
    return status in TRANSIENT_HTTP_STATUS or status in (404, 405, 501)


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
