"""Several nodes of one network: reads and sends fail over, and a node of another network is refused.

Two `rpc_proxy.RpcProxy` instances stand in for two nodes in front of one anvil; one is killed and restored
while the service issues and verifies.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from chain_world import Deployed
from lifecycle_support import Cli
from rpc_proxy import RpcProxy
from service_support import live_server, service_settings, settled

from credreg.api import create_app
from credreg.audit import build_report
from credreg.chain.client import FailoverProvider, connect
from credreg.chain.devchain import ephemeral_chain, free_port
from credreg.errors import WrongChain
from credreg.registry import Registry

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 6


@pytest.fixture
def nodes(deployed: Deployed) -> Iterator[tuple[RpcProxy, RpcProxy]]:
    with RpcProxy(deployed.url) as first, RpcProxy(deployed.url) as second:
        yield first, second


def test_the_service_issues_and_verifies_while_one_node_dies_and_returns(
    deployed: Deployed, nodes: tuple[RpcProxy, RpcProxy], tmp_path: Path
) -> None:
    first, second = nodes
    settings = service_settings(tmp_path / "service", deployed, rpc_url=f"{first.url},{second.url}")
    locations: list[str] = []
    verified: list[dict[str, object]] = []
    with live_server(create_app(settings)) as url, httpx.Client(base_url=url, timeout=60) as client:
        for round_ in range(ROUNDS):
            if round_ == 1:
                first.kill()  # the preferred node goes away
            if round_ == 3:
                first.start()  # it comes back on the same port ...
                second.kill()  # ... and the other one goes
            if round_ == 5:
                second.start()
            batch = deployed.batch(2, first=100 + 2 * round_)
            body = deployed.sign_batch(batch).model_dump(mode="json") | {"leaves": batch.leaves}
            accepted = client.post("/v1/issuances", json=body)
            assert accepted.status_code == 202, (round_, accepted.text)
            locations.append(accepted.headers["location"])
            assert settled(client, locations[-1])["status"] == "confirmed", round_
            report = client.post("/v1/verify", json=batch.documents[0])
            assert report.status_code == 200, report.text
            verified.append(report.json())
        health = client.get("/readyz")

    assert [r["verdict"] for r in verified] == ["valid"] * ROUNDS, [r["code"] for r in verified]
    assert health.status_code == 200, health.text
    assert [n["url"] for n in health.json()["nodes"]] == [first.url, second.url]
    assert first.forwarded > 0
    assert second.forwarded > 0  # the second node really served while the first was down


def test_reads_fail_over_in_the_library(deployed: Deployed, nodes: tuple[RpcProxy, RpcProxy]) -> None:
    first, second = nodes
    dead = f"http://127.0.0.1:{free_port()}"
    registry = Registry.connect(f"{dead},{first.url},{second.url}", deployed.manifest)
    provider = registry.w3.provider
    assert isinstance(provider, FailoverProvider)

    before = registry.head()
    first.kill()
    after = registry.head()

    assert after >= before
    health = {h.url: h for h in provider.health()}
    assert health[dead].failures >= 1
    assert health[second.url].failures == 0
    assert provider.endpoint_uri == second.url


def test_an_audit_replay_fails_over_too(deployed: Deployed, nodes: tuple[RpcProxy, RpcProxy]) -> None:
    first, second = nodes
    dead = f"http://127.0.0.1:{free_port()}"
    registry = Registry.connect(f"{dead},{first.url},{second.url}", deployed.manifest)
    provider = registry.w3.provider
    assert isinstance(provider, FailoverProvider)
    first.kill()

    report = build_report(registry, recompile=False)

    assert report.clean, [str(f) for f in report.findings]
    assert report.totals.events > 0
    assert provider.endpoint_uri == second.url


def test_a_node_that_hangs_is_left_after_the_time_out(
    deployed: Deployed, nodes: tuple[RpcProxy, RpcProxy]
) -> None:
    first, second = nodes
    registry = Registry(connect(f"{first.url},{second.url}", timeout=1.0), deployed.manifest)
    registry.check_deployment()
    first.stall()
    try:
        started = time.monotonic()
        head = registry.head()
        again = registry.head()  # the hung node is cooling down: straight to the other one
        elapsed = time.monotonic() - started
    finally:
        first.unstall()

    assert again >= head > 0
    assert elapsed < 5.0  # one time-out, not one per request
    provider = registry.w3.provider
    assert isinstance(provider, FailoverProvider)
    assert {h.url: h.failures for h in provider.health()}[first.url] == 1


def test_a_node_of_another_network_is_refused(deployed: Deployed, tmp_path: Path) -> None:
    with ephemeral_chain() as stranger:  # same chain id, another genesis block
        with pytest.raises(WrongChain, match="do not serve one network"):
            Registry.connect(f"{deployed.url},{stranger.url}", deployed.manifest)

        deployed.manifest.save(tmp_path / "data" / "deployment.json")
        cli = Cli(tmp_path, {"CREDREG_DATA_DIR": str(tmp_path / "data"), "CREDREG_PROJECT_ROOT": str(ROOT)})
        document = tmp_path / "certificate.json"
        document.write_text(json.dumps(deployed.batch(1).documents[0]), encoding="utf-8")
        flags = cli.fails(2, "--rpc-url", deployed.url, "--rpc-url", stranger.url, "verify", str(document))
        cli.env["CREDREG_RPC_URLS"] = f"{deployed.url},{stranger.url}"
        from_env = cli.fails(2, "verify", str(document))

    for ran in (flags, from_env):
        assert "do not serve one network" in ran.text
        assert stranger.url in ran.text
        assert "Traceback" not in ran.text


def test_rpc_url_given_twice_fails_over_on_the_command_line(deployed: Deployed, tmp_path: Path) -> None:
    deployed.manifest.save(tmp_path / "data" / "deployment.json")
    cli = Cli(tmp_path, {"CREDREG_DATA_DIR": str(tmp_path / "data"), "CREDREG_PROJECT_ROOT": str(ROOT)})
    dead = f"http://127.0.0.1:{free_port()}"

    status = cli.ok("--rpc-url", dead, "--rpc-url", deployed.url, "chain", "status")

    assert f"answers on {deployed.url}" in status.text
    assert connect(f"{dead},{deployed.url}").eth.chain_id == deployed.manifest.chain_id
