"""The portability matrix: the whole flow on two node implementations (anvil, ganache) in two fee models
(London with a base fee; Berlin at gas price 0, as GoQuorum/IBFT networks run): deploy, accredit, issue
through the service, revoke through the service, verify, and replay the ledger in an audit."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from chain_world import Deployed, deploy_world
from nodes import NODE_MODES
from service_support import live_server, service_settings, settled, wait_for
from web3 import Web3

from credreg.api import create_app
from credreg.audit import build_report
from credreg.chain.eip712 import StatusAction

MATRIX = ["anvil-london", "anvil-berlin-free", "ganache-london", "ganache-berlin-free"]
BATCH = 3


@pytest.fixture(params=MATRIX)
def node(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    with NODE_MODES[request.param]() as url:
        yield request.param, url


def test_deploy_issue_revoke_verify_and_audit_on_every_node_and_fee_model(
    node: tuple[str, str], tmp_path: Path
) -> None:
    mode, url = node
    started = time.monotonic()
    london = "baseFeePerGas" in Web3(Web3.HTTPProvider(url)).eth.get_block("latest")
    assert london == mode.endswith("london"), mode  # the node runs the fee model named

    d: Deployed = deploy_world(url)  # deploy, define scopes, register, accredit, add a signer
    settings = service_settings(tmp_path / "service", d)
    with live_server(create_app(settings)) as base, httpx.Client(base_url=base, timeout=30) as api:
        wait_for(lambda: api.get("/readyz").status_code == 200, what=f"/readyz on {mode}")
        batch = d.batch(BATCH)
        accepted = api.post(
            "/v1/issuances", json=d.sign_batch(batch).model_dump(mode="json") | {"leaves": batch.leaves}
        )
        assert accepted.status_code == 202, accepted.text
        issued = settled(api, accepted.json()["location"])
        assert issued["status"] == "confirmed", issued

        revoked = batch.leaves[1]
        proof = api.get(f"/v1/credentials/{revoked}").json()["proof"]
        signed = d.sign_status(batch.root, revoked, proof, StatusAction.REVOKE, 7)
        change = api.post("/v1/revocations", json=signed.model_dump(mode="json"))
        assert change.status_code == 202, change.text
        assert settled(api, change.json()["location"])["status"] == "confirmed"

        reports = api.post("/v1/verify", json=batch.documents).json()
        assert [r["code"] for r in reports] == ["valid", "revoked", "valid"], reports
        wait_for(
            lambda: (
                api.get("/v1/audit/events", params={"limit": 1}).json()["indexed_to"] >= d.registry.head()
            ),
            what=f"the event index on {mode}",
        )
        names = [e["type"] for e in api.get("/v1/audit/events", params={"limit": 100}).json()["events"]]
        assert names.count("CredentialIssued") == 1
        assert names.count("CredentialStatusChanged") == 1

    report = build_report(d.registry, recompile=False, include_records=True)
    assert report.clean, [str(f) for f in report.findings]
    assert report.views is not None
    assert report.views.complete
    assert not report.views.mismatched
    assert report.provenance is not None
    assert (report.totals.roots, report.totals.targets) == (1, 1)
    assert time.monotonic() - started < 120, f"{mode} took {time.monotonic() - started:.0f} s"
