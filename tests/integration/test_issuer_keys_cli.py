"""An agency admin lists, retires and reports the keys the agency signs verifiable credentials with, from the
command line; the ledger holds them where any verifier (and the governor) can read them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from lifecycle_support import Cli, World, set_up_registry

from credreg.chain.devchain import ephemeral_chain
from credreg.vc.keys import load_signing_key


@dataclass
class Desk:
    world: World
    cli: Cli
    workdir: Path


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    workdir = tmp_path_factory.mktemp("issuer-keys")
    with ephemeral_chain() as chain:
        world = set_up_registry(chain.url)
        world.registry.manifest.save(workdir / "data" / "deployment.json")
        env = {"CREDREG_DATA_DIR": str(workdir / "data"), "CREDREG_RPC_URL": chain.url}
        yield Desk(world, Cli(workdir, env), workdir)


def test_an_admin_lists_a_new_key_and_anyone_reads_it_back(desk: Desk) -> None:
    desk.cli.ok("issuer-key", "new", "issuer.pem")
    key = load_signing_key(desk.workdir / "issuer.pem")
    added = desk.cli.ok(
        "issuer-key", "add", str(desk.world.agency_id), "issuer.pem", "--dev-account", "1"
    ).text
    assert key.did in added
    record = desk.world.registry.issuer_key(key.public_key_hex)
    assert (record.agency_id, record.valid_until, record.compromised_since) == (desk.world.agency_id, 0, 0)
    shown = desk.cli.ok("issuer-key", "show", key.did).text
    assert f"agency {desk.world.agency_id}" in shown

    desk.cli.ok("issuer-key", "compromised", key.public_key_hex, "--since", "now", "--dev-account", "1")
    assert desk.world.registry.issuer_key(key.public_key_hex).compromised_since > 0
    assert "compromised since" in desk.cli.ok("issuer-key", "show", "issuer.pem").text


def test_a_key_belongs_to_one_agency_and_only_its_admin_or_the_governor_lists_it(desk: Desk) -> None:
    desk.cli.ok("issuer-key", "new", "other.pem")
    stranger = desk.cli.fails(
        2, "issuer-key", "add", str(desk.world.agency_id), "other.pem", "--dev-account", "3"
    )
    assert "AccreditationRegistryUnauthorized" in stranger.text
    desk.cli.ok("issuer-key", "add", str(desk.world.agency_id), "other.pem", "--dev-account", "0")  # governor
    again = desk.cli.fails(
        2, "issuer-key", "add", str(desk.world.agency_id), "other.pem", "--dev-account", "1"
    )
    assert "AccreditationRegistryIssuerKeyAlreadyRegistered" in again.text
    retired = desk.cli.ok("issuer-key", "retire", "other.pem", "--dev-account", "1").text
    assert "issuer key retired" in retired


def test_a_key_that_is_none_of_the_three_forms_is_refused_naming_it(desk: Desk) -> None:
    ran = desk.cli.fails(2, "issuer-key", "show", "not-a-key")
    assert "KEY" in ran.text
    assert "did:key" in ran.text
    assert "Traceback" not in ran.text
    exists = desk.cli.fails(2, "issuer-key", "new", "issuer.pem")
    assert "already exists" in exists.text
