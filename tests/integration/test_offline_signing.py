"""An agency signs on a machine that never touches the network; anyone sends the file later, to the ledger
or to a credreg service, until its deadline."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from lifecycle_support import SIGNER, Cli, World, documents_in, load, sample_results, set_up_registry
from service_support import live_server, service_settings, settled

from credreg.api.app import create_app
from credreg.chain.devchain import ephemeral_chain
from credreg.chain.states import Status, Verdict
from credreg.documents.layout import binding_from_document

DEAD_RPC = "http://127.0.0.1:9"  # nothing listens there: signing must not need the ledger


@dataclass
class Desk:
    world: World
    workdir: Path
    batch: list[Path]
    cli: Cli  # with the manifest and a dead RPC URL: the offline machine
    online: Cli  # the same with the chain's URL: a networked machine


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    workdir = tmp_path_factory.mktemp("offline")
    with ephemeral_chain() as chain:
        world = set_up_registry(chain.url)
        world.registry.manifest.save(workdir / "data" / "deployment.json")
        world.issue(sample_results(workdir / "issued.csv", 3, prefix="OFF"), workdir / "issued")
        env = {"CREDREG_DATA_DIR": str(workdir / "data")}
        yield Desk(
            world,
            workdir,
            documents_in(workdir / "issued", "OFF"),
            Cli(workdir, {**env, "CREDREG_RPC_URL": DEAD_RPC}),
            Cli(workdir, {**env, "CREDREG_RPC_URL": chain.url}),
        )


def test_a_status_change_signed_offline_is_sent_later_and_lands(desk: Desk) -> None:
    certificate = desk.batch[0]
    desk.cli.ok("sign", "status", str(certificate), "--action", "suspend", "--reason", "7",
                "--out", "suspend.json", "--dev-account", "2")  # fmt: skip
    request = json.loads((desk.workdir / "suspend.json").read_text(encoding="utf-8"))
    assert request["type"] == "credreg.status-change"
    assert request["request"]["agency_id"] == desk.world.agency_id
    assert request["request"]["action"] == 2
    desk.online.ok("submit", "suspend.json", "--dev-account", "9")
    binding = binding_from_document(load(certificate))  # type: ignore[arg-type]
    status = desk.world.registry.status_of(desk.world.agency_id, "0x" + binding.target_hash)
    assert (status.status, status.reason, status.nonce) == (Status.SUSPENDED, 7, 1)
    # The same file again: its nonce is used up, and the message says which one to sign with.
    again = desk.online.fails(2, "submit", "suspend.json", "--dev-account", "9")
    assert "--nonce 1" in again.text


def test_an_issuance_signed_offline_records_the_batch(desk: Desk, tmp_path: Path) -> None:
    world = desk.world
    out = world.issue(sample_results(tmp_path / "second.csv", 2, prefix="TWO"), tmp_path / "second")
    # The batch is on the ledger already through `issue`; a fresh root stands for a batch wrapped offline.
    root = "0x" + "ab" * 32
    scope = (
        f"{world.registry.scope(world.scope_id).occupation_code}/{world.registry.scope(world.scope_id).level}"
    )
    desk.cli.ok("sign", "issue", "--root", root, "--scope", scope, "--out", str(tmp_path / "issue.json"),
                "--dev-account", "2")  # fmt: skip
    assert not world.registry.is_issued(world.agency_id, root)
    desk.online.ok("submit", str(tmp_path / "issue.json"), "--dev-account", "9")
    record = world.registry.record(world.agency_id, root)
    assert (record.issued, record.scope_id, record.signer) == (True, world.scope_id, SIGNER.address)
    assert out.summary.count == 2


def test_a_signature_past_its_deadline_is_refused_by_the_ledger(desk: Desk, tmp_path: Path) -> None:
    certificate = desk.batch[1]
    desk.cli.ok("sign", "status", str(certificate), "--action", "revoke", "--deadline", "2020-01-01",
                "--out", str(tmp_path / "late.json"), "--dev-account", "2")  # fmt: skip
    ran = desk.online.fails(2, "submit", str(tmp_path / "late.json"), "--dev-account", "9")
    assert "ExpiredSignature" in ran.text
    binding = binding_from_document(load(certificate))  # type: ignore[arg-type]
    assert desk.world.registry.status_of(desk.world.agency_id, "0x" + binding.target_hash).nonce == 0


def test_a_signed_file_goes_through_a_service(desk: Desk, tmp_path: Path) -> None:
    certificate = desk.batch[2]
    desk.cli.ok("sign", "status", str(certificate), "--action", "revoke", "--reason", "3",
                "--out", str(tmp_path / "revoke.json"), "--dev-account", "2")  # fmt: skip
    deployed = SimpleNamespace(url=desk.world.url, manifest=desk.world.registry.manifest)
    settings = service_settings(tmp_path / "service", deployed)  # type: ignore[arg-type]
    with live_server(create_app(settings)) as url:
        ran = desk.cli.ok("submit", str(tmp_path / "revoke.json"), "--service", url)
        assert "accepted (202)" in ran.text
        location = ran.text.split(f"follow it at {url}")[1].split()[0]
        with httpx.Client(base_url=url, timeout=30) as client:
            assert settled(client, location)["status"] == "confirmed"
            reports = client.post("/v1/verify", json=load(certificate)).json()
    binding = binding_from_document(load(certificate))  # type: ignore[arg-type]
    state = desk.world.registry.credential_status(
        desk.world.agency_id, "0x" + binding.merkle_root, "0x" + binding.target_hash,
        ["0x" + p for p in binding.proof],
    )  # fmt: skip
    assert state.verdict is Verdict.LEAF_REVOKED
    assert reports["code"] == "revoked"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "not valid JSON"),
        ('{"type": "something"}', "is not a signed request"),
        ('{"type": "credreg.issue", "chain_id": 31337}', "registry"),
    ],
)
def test_a_broken_request_file_is_refused_naming_what_is_wrong(
    desk: Desk, tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "broken.json"
    path.write_text(content, encoding="utf-8")
    ran = desk.online.fails(2, "submit", str(path), "--dev-account", "9")
    assert message in ran.text
    assert "Traceback" not in ran.text
