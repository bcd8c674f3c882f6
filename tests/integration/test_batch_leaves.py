"""Every batch's certificates can be looked up at the service: a batch relayed through it (`credreg issue
--service`) brings its leaves, and a batch issued straight to the ledger is listed by a signed upload
(`POST /v1/batches`, `credreg batch upload`) that the service checks against the ledger."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from lifecycle_support import (
    OTHER_ADMIN,
    OTHER_SIGNER,
    SIGNER,
    Cli,
    World,
    documents_in,
    load,
    sample_results,
    set_up_registry,
)
from service_support import assert_problem, live_server, service_settings

from credreg.api.app import create_app
from credreg.chain.devchain import ephemeral_chain
from credreg.registry import AgencyAdmin, sign_batch_leaves
from credreg.summaries import read_summary


@dataclass
class Desk:
    world: World
    workdir: Path
    cli: Cli
    url: str
    client: httpx.Client


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    workdir = tmp_path_factory.mktemp("batches")
    with ephemeral_chain() as chain:
        world = set_up_registry(chain.url)
        # A second agency with its own signer, for uploads signed by the wrong agency's key.
        other = world.governor.register_agency("Shanghai Skills Centre", "SH-0002", OTHER_ADMIN.address)
        AgencyAdmin(world.registry, OTHER_ADMIN).add_signer(other, OTHER_SIGNER.address, world.now() - 60)
        world.registry.manifest.save(workdir / "data" / "deployment.json")
        deployed = SimpleNamespace(url=world.url, manifest=world.registry.manifest)
        settings = service_settings(workdir / "service", deployed)  # type: ignore[arg-type]
        env = {"CREDREG_DATA_DIR": str(workdir / "data"), "CREDREG_RPC_URL": chain.url}
        with live_server(create_app(settings)) as url, httpx.Client(base_url=url, timeout=30) as client:
            yield Desk(world, workdir, Cli(workdir, env), url, client)


def _leaf(document: Path) -> str:
    return "0x" + str(load(document)["signature"]["targetHash"])


def _summary(out: Path) -> Path:
    (summary,) = out.glob("batch-*.json")
    return summary


def test_a_batch_issued_through_the_service_answers_for_each_certificate(desk: Desk) -> None:
    sample_results(desk.workdir / "relayed.csv", 3, prefix="REL")
    ran = desk.cli.ok("issue", "relayed.csv", "--out", "relayed", "--dev-account", "2", "--yes",
                      "--service", desk.url)  # fmt: skip
    assert "issued 3 certificate(s)" in ran.text
    summary = read_summary(_summary(desk.workdir / "relayed"))
    # The service sent the transaction: the ledger records it under the signer's agency.
    assert summary.transaction_hash is not None
    assert desk.world.registry.record(desk.world.agency_id, summary.root).signer == SIGNER.address
    documents = documents_in(desk.workdir / "relayed", "REL")
    assert sorted(summary.leaves) == sorted(_leaf(d) for d in documents)
    for document in documents:
        found = desk.client.get(f"/v1/credentials/{_leaf(document)}")
        assert found.status_code == 200, found.text
        assert found.json()["root"] == summary.root


def test_a_batch_too_large_for_one_request_is_relayed_by_its_root_then_listed_in_parts(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    from credreg.cli import batch_cmds, service_client

    # The thresholds of a national batch (10,000), lowered so that five certificates take the same path.
    monkeypatch.setattr(service_client, "LEAVES_IN_ONE_REQUEST", 2)
    monkeypatch.setattr(batch_cmds, "PARTS_FROM", 2)
    sample_results(desk.workdir / "large.csv", 5, prefix="BIG")
    ran = desk.cli.ok("issue", "large.csv", "--out", "large", "--dev-account", "2", "--yes",
                      "--service", desk.url)  # fmt: skip
    assert "relays its root first" in ran.text
    assert "5 certificate(s), 5 new" in ran.text
    summary = read_summary(_summary(desk.workdir / "large"))
    assert summary.transaction_hash is not None
    for document in documents_in(desk.workdir / "large", "BIG"):
        found = desk.client.get(f"/v1/credentials/{_leaf(document)}")
        assert found.status_code == 200, found.text
        assert found.json()["root"] == summary.root
    # Again: the batch is issued already; the service is told its certificates again, nothing new.
    again = desk.cli.ok("issue", "large.csv", "--out", "large", "--dev-account", "2", "--yes",
                        "--service", desk.url)  # fmt: skip
    assert "5 certificate(s), 0 new" in again.text, again.text


def test_a_batch_issued_directly_is_listed_by_a_signed_upload(desk: Desk) -> None:
    out = desk.workdir / "direct"
    desk.world.issue(sample_results(desk.workdir / "direct.csv", 4, prefix="DIR"), out)
    leaf = _leaf(documents_in(out, "DIR")[0])
    assert_problem(desk.client.get(f"/v1/credentials/{leaf}"), 404, "unknown-hash")
    ran = desk.cli.ok("batch", "upload", str(_summary(out)), "--service", desk.url, "--dev-account", "2")
    assert "4 certificate(s), 4 new" in ran.text
    found = desk.client.get(f"/v1/credentials/{leaf}")
    assert found.status_code == 200, found.text
    assert found.json()["valid"] is True
    # Again: harmless, nothing new.
    again = desk.cli.ok("batch", "upload", str(_summary(out)), "--service", desk.url, "--dev-account", "2")
    assert "4 certificate(s), 0 new" in again.text


def test_an_older_summary_without_leaves_takes_them_from_its_documents(desk: Desk) -> None:
    out = desk.workdir / "older"
    desk.world.issue(sample_results(desk.workdir / "older.csv", 2, prefix="OLD"), out)
    path = _summary(out)
    body = json.loads(path.read_text(encoding="utf-8"))
    del body["leaves"]
    path.write_text(json.dumps(body), encoding="utf-8")
    ran = desk.cli.ok("batch", "upload", str(path), "--service", desk.url, "--dev-account", "2")
    assert "2 certificate(s), 2 new" in ran.text
    leaf = _leaf(documents_in(out, "OLD")[1])
    assert desk.client.get(f"/v1/credentials/{leaf}").status_code == 200


def test_an_upload_signed_by_another_agencys_key_is_refused(desk: Desk) -> None:
    out = desk.workdir / "stolen"
    desk.world.issue(sample_results(desk.workdir / "stolen.csv", 2, prefix="STO"), out)
    ran = desk.cli.fails(
        2, "batch", "upload", str(_summary(out)), "--service", desk.url, "--dev-account", "5"
    )
    assert "signer-not-of-agency" in ran.text
    assert "a key of agency 2" in ran.text
    summary = read_summary(_summary(out))
    forged = sign_batch_leaves(
        OTHER_SIGNER, desk.world.registry.domain, summary.agency_id, summary.root, summary.leaves
    )
    body = assert_problem(
        desk.client.post("/v1/batches", json=forged.model_dump(mode="json")), 422, "signer-not-of-agency",
        "signature",
    )  # fmt: skip
    assert f"agency {summary.agency_id}" in body["detail"]
    assert_problem(desk.client.get(f"/v1/credentials/{summary.leaves[0]}"), 404, "unknown-hash")


def test_leaves_that_do_not_build_the_root_are_refused(desk: Desk) -> None:
    out = desk.workdir / "padded"
    desk.world.issue(sample_results(desk.workdir / "padded.csv", 2, prefix="PAD"), out)
    summary = read_summary(_summary(out))
    extra = "0x" + "5a" * 32
    forged = sign_batch_leaves(
        SIGNER, desk.world.registry.domain, summary.agency_id, summary.root, [*summary.leaves, extra]
    )
    body = assert_problem(
        desk.client.post("/v1/batches", json=forged.model_dump(mode="json")), 422, "invalid-leaves", "leaves"
    )
    assert "merkle root" in body["detail"]
    assert_problem(desk.client.get(f"/v1/credentials/{extra}"), 404, "unknown-hash")
    # Leaves other than those signed for.
    honest = sign_batch_leaves(
        SIGNER, desk.world.registry.domain, summary.agency_id, summary.root, summary.leaves
    )
    swapped = honest.model_dump(mode="json") | {"leaves": [*summary.leaves, extra]}
    assert_problem(desk.client.post("/v1/batches", json=swapped), 422, "invalid-leaves", "leaves")


def test_a_root_not_recorded_in_the_agencys_namespace_is_refused(desk: Desk) -> None:
    out = desk.workdir / "claimed"
    desk.world.issue(sample_results(desk.workdir / "claimed.csv", 2, prefix="CLA"), out)
    summary = read_summary(_summary(out))
    # Agency 2 claims agency 1's batch as its own: the leaves build the root, but not in agency 2's namespace.
    squat = sign_batch_leaves(OTHER_SIGNER, desk.world.registry.domain, 2, summary.root, summary.leaves)
    body = assert_problem(
        desk.client.post("/v1/batches", json=squat.model_dump(mode="json")), 422, "not-issued", "request.root"
    )
    assert "agency 2" in body["detail"]
    # Signed for another registry: refused before anything else.
    elsewhere = desk.world.registry.domain.model_copy(update={"chain_id": 1})
    wrong = sign_batch_leaves(SIGNER, elsewhere, summary.agency_id, summary.root, summary.leaves)
    assert_problem(desk.client.post("/v1/batches", json=wrong.model_dump(mode="json")), 422, "wrong-domain")
