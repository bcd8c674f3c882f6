"""The service, the outbox's reads and the audit work unchanged behind a node with production RPC limits.

`rpc_proxy.RpcProxy` sits in front of anvil and enforces Besu's defaults (5,000-block log range, batches of
1,024, 5 MiB bodies), or a tighter log range that the readers must discover on their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from chain_world import Deployed
from rpc_proxy import BESU_LIMITS, RpcProxy
from service_support import live_server, service_settings, settled, wait_for

from credreg.api import create_app
from credreg.audit import build_report
from credreg.chain.client import connect
from credreg.chain.logs import LogWindows, read_logs
from credreg.registry import Registry, Relayer
from credreg.service import Database
from credreg.service.index import EventIndex, EventQuery

# Empty blocks between two stretches of events. anvil mines about 100 empty blocks a second here, so the
# ledger stays short and the tight profile's log range stands in for Besu's 5,000 against a long one.
GAP_BLOCKS = 300
TIGHT = replace(BESU_LIMITS, max_logs_range=100)


@pytest.fixture(scope="module")
def spread(deployed: Deployed) -> Deployed:
    """The deployed registry, with a root issued, then GAP_BLOCKS empty blocks, then two more roots."""
    relayer = Relayer(deployed.registry, deployed.relayer)
    relayer.issue(deployed.sign_issue())
    deployed.registry.w3.provider.make_request("anvil_mine", [hex(GAP_BLOCKS)])  # type: ignore[arg-type]
    relayer.issue(deployed.sign_issue())
    relayer.issue(deployed.sign_issue())
    return deployed


@pytest.fixture(params=[BESU_LIMITS, TIGHT], ids=["besu-defaults", "tight-100"])
def proxy(spread: Deployed, request: pytest.FixtureRequest) -> Iterator[RpcProxy]:
    with RpcProxy(spread.url, request.param) as running:
        yield running


def _all_logs(url: str, deployed: Deployed, windows: LogWindows | None = None) -> list[dict[str, object]]:
    first, head = deployed.manifest.deployment_block, deployed.registry.head()
    return [log for _, _, logs in read_logs(connect(url), deployed.registry.address, first, head,
                                            windows=windows) for log in logs]  # fmt: skip


def test_the_proxy_refuses_what_besu_refuses(spread: Deployed, proxy: RpcProxy) -> None:
    w3 = connect(proxy.url)
    wide = w3.provider.make_request(  # type: ignore[arg-type]
        "eth_getLogs", [{"fromBlock": "0x0", "toBlock": hex(proxy.limits.max_logs_range)}]
    )
    within = w3.provider.make_request(  # type: ignore[arg-type]
        "eth_getLogs", [{"fromBlock": "0x1", "toBlock": hex(proxy.limits.max_logs_range)}]
    )
    batch = httpx.post(
        proxy.url, json=[{"jsonrpc": "2.0", "id": i, "method": "eth_chainId"} for i in range(1_025)]
    ).json()
    body = httpx.post(proxy.url, content=b" " * (proxy.limits.max_request_bytes + 1))

    assert wide["error"]["code"] == -32005, wide
    assert isinstance(within["result"], list), within
    assert batch["error"]["code"] == -32005
    assert body.status_code == 413
    assert proxy.refused["logs-range"] >= 1


def test_one_log_reader_shrinks_to_the_node_limit_and_reads_everything(
    spread: Deployed, proxy: RpcProxy
) -> None:
    windows = LogWindows(max_blocks=50_000)  # as wide as the outbox once asked for
    through_proxy = _all_logs(proxy.url, spread, windows)
    direct = _all_logs(spread.url, spread, LogWindows(max_blocks=1_000_000))

    assert through_proxy == direct
    assert sum(1 for log in direct if log["topics"]) >= 3 + 3  # set-up events and three issuances
    if spread.registry.head() - spread.manifest.deployment_block >= proxy.limits.max_logs_range:
        assert proxy.refused["logs-range"] >= 1  # the limit was met, and learned
        assert windows.ceiling <= proxy.limits.max_logs_range
    refused = proxy.refused["logs-range"]
    _all_logs(proxy.url, spread, windows)  # the same reader again: what it learned carries over
    assert proxy.refused["logs-range"] == refused


def test_the_event_index_follows_the_chain_through_node_limits(
    spread: Deployed, proxy: RpcProxy, tmp_path: Path
) -> None:
    def indexed(url: str, chunk: int) -> list[tuple[str, int, int]]:
        db = Database(f"sqlite:///{tmp_path / f'{chunk}.sqlite3'}")
        db.create_schema()
        try:
            index = EventIndex(db, Registry(connect(url), spread.manifest), chunk=chunk)
            assert index.catch_up() == spread.registry.head()
            rows = index.events(EventQuery(limit=10_000))
            return sorted((e.name, e.block_number, e.log_index) for e in rows)
        finally:
            db.dispose()

    assert indexed(proxy.url, 20_000) == indexed(spread.url, 1_000_000)


def test_an_audit_replay_through_node_limits_equals_one_without(spread: Deployed, proxy: RpcProxy) -> None:
    limited = build_report(Registry(connect(proxy.url), spread.manifest), provenance=False)
    direct = build_report(Registry(connect(spread.url), spread.manifest), provenance=False)

    assert limited.clean, [str(f) for f in limited.findings]
    if spread.registry.head() - spread.manifest.deployment_block >= proxy.limits.max_logs_range:
        assert proxy.refused["logs-range"] >= 1
    assert limited.digest == direct.digest
    assert limited.totals == direct.totals
    assert limited.totals.roots >= 3


def test_the_service_relays_and_indexes_through_node_limits(
    spread: Deployed, proxy: RpcProxy, tmp_path: Path
) -> None:
    settings = service_settings(tmp_path / "service", spread, rpc_url=proxy.url, index_chunk_blocks=50_000)
    signed = spread.sign_issue()
    with live_server(create_app(settings)) as url, httpx.Client(base_url=url, timeout=60) as client:
        accepted = client.post("/v1/issuances", json=signed.model_dump(mode="json"))
        assert accepted.status_code == 202, accepted.text
        done = settled(client, accepted.headers["location"])
        ready = wait_for(lambda: (r := client.get("/readyz")).status_code == 200 and r, what="readiness")
        credential = client.get(f"/v1/credentials/{signed.request.root}")

    assert done["status"] == "confirmed", done
    assert ready.status_code == 200, ready.text
    assert credential.status_code == 200, credential.text
