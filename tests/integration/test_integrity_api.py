"""Verdict integrity through the HTTP API: what the service tells anyone about agency A's certificates can
change only through A or the governor (issues 10 and 16).

A real uvicorn server over a real anvil. Agency A is chain_world's agency; B and C are two more accredited
agencies, each with its own signer key, acting as hostile agencies would: embedding A's root or leaf in a tree
of their own and revoking or suspending it there, signing a status change in A's name, and recording the
same hash as A first (a squat).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from chain_world import Batch, Deployed
from eth_account.signers.local import LocalAccount
from service_support import assert_problem, live_server, service_settings, settled, wait_for

from credreg.api import create_app
from credreg.chain.eip712 import StatusAction
from credreg.chain.states import Status
from credreg.documents.merkle import MerkleTree
from credreg.hashes import hash_bytes
from credreg.registry import AgencyAdmin, Governor, Relayer, SignedIssue, SignedStatusChange
from credreg.service import Service


@dataclass(frozen=True)
class Agency:
    """An accredited agency and the key that signs for it."""

    agency_id: int
    signer: LocalAccount


@dataclass(frozen=True)
class World:
    d: Deployed
    a: Agency
    b: Agency
    c: Agency


def add_agency(d: Deployed, name: str, code: str, admin: LocalAccount, signer: LocalAccount) -> Agency:
    governor = Governor(d.registry, d.governor)
    agency_id = governor.register_agency(name, code, admin.address)
    now = d.registry.block_time()
    governor.accredit(agency_id, d.scope_id, now - 60, 0)
    AgencyAdmin(d.registry, admin).add_signer(agency_id, signer.address, now - 60, 0)
    return Agency(agency_id, signer)


@pytest.fixture(scope="module")
def world(deployed: Deployed, anvil_accounts: list[LocalAccount]) -> World:
    """Agency A (chain_world's, accounts 1 and 2), B (accounts 4 and 5) and C (accounts 6 and 7)."""
    b = add_agency(deployed, "Hostile Assessment Centre B", "SH-0002", anvil_accounts[4], anvil_accounts[5])
    c = add_agency(deployed, "Hostile Assessment Centre C", "GZ-0003", anvil_accounts[6], anvil_accounts[7])
    return World(deployed, Agency(deployed.agency_id, deployed.signer), b, c)


@pytest.fixture(scope="module")
def api(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    settings = service_settings(tmp_path_factory.mktemp("integrity-service"), world.d)
    with live_server(create_app(settings)) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client


def random_hash() -> str:
    return "0x" + os.urandom(32).hex()


def signed_issue(d: Deployed, agency: Agency, root: str, valid_until: int = 0) -> SignedIssue:
    return d.registry.sign_issue(agency.signer, d.registry.issue_request(root, d.scope_id, valid_until))


def signed_status(d: Deployed, signer: Agency, in_namespace_of: Agency, root: str, target: str,
                  proof: list[str], action: StatusAction, reason: int = 0) -> SignedStatusChange:  # fmt: skip
    """A status change signed by `signer`'s key for the namespace of `in_namespace_of`."""
    return d.registry.sign_status_change(
        signer.signer, in_namespace_of.agency_id, root, target, proof, action, reason
    )


def issue_through_api(
    api: httpx.Client, signed: SignedIssue, leaves: list[str] | None = None
) -> dict[str, Any]:
    body = signed.model_dump(mode="json") | ({"leaves": leaves} if leaves is not None else {})
    response = api.post("/v1/issuances", json=body)
    assert response.status_code == 202, response.text
    done = settled(api, response.json()["location"])
    assert done["status"] == "confirmed", done
    return done


def status_through_api(api: httpx.Client, signed: SignedStatusChange) -> dict[str, Any]:
    response = api.post("/v1/revocations", json=signed.model_dump(mode="json"))
    assert response.status_code == 202, response.text
    return settled(api, response.json()["location"])


def issue_batch_of_a(api: httpx.Client, w: World, first: int) -> Batch:
    """A batch of three of A's certificates, issued through the API with its leaves."""
    batch = w.d.batch(3, first=first)
    issue_through_api(api, signed_issue(w.d, w.a, batch.root, batch.valid_until), batch.leaves)
    return batch


def embedding_tree(victim: str) -> tuple[str, str, list[str]]:
    """A hostile agency's tree over `victim` and a random hash Y: (its root, Y, the proof of `victim`)."""
    other = random_hash()
    tree = MerkleTree([hash_bytes(victim), hash_bytes(other)])
    proof = ["0x" + p.hex() for p in tree.proof(hash_bytes(victim))]
    assert proof == [other]
    return "0x" + tree.root.hex(), other, proof


def proof_of(document: Mapping[str, Any]) -> list[str]:
    return ["0x" + p for p in document["signature"]["proof"]]


def verify(api: httpx.Client, document: Mapping[str, Any]) -> dict[str, Any]:
    response = api.post("/v1/verify", json=document)
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


def lookup(api: httpx.Client, hash_: str, agency: int | None = None) -> httpx.Response:
    return api.get(f"/v1/credentials/{hash_}", params={"agency": agency} if agency is not None else None)


def assert_not_answered_for(response: httpx.Response, hostile: Agency, owner: Agency) -> None:
    """Without ?agency the service may say the hash is ambiguous or answer the owner's record, never the
    hostile agency's record alone."""
    if response.status_code == 409:
        body = assert_problem(response, 409, "ambiguous-hash", "agency")
        assert str(owner.agency_id) in body["detail"], body
        return
    assert response.status_code == 200, response.text
    assert response.json()["record"]["agency_id"] == owner.agency_id, response.json()
    assert response.json()["record"]["agency_id"] != hostile.agency_id


def assert_refused_in_a_name_not_its_own(response: httpx.Response, signer: Agency, owner: Agency) -> None:
    """A status change signed by `signer` for `owner`'s namespace: a 422 problem naming the unknown signer."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    body = assert_problem(response, 422, "unknown-signer", "signature")
    assert "CredentialRegistryUnknownSigner" in body["detail"], body
    assert signer.signer.address.lower() in body["detail"].lower(), body


# --- issue 10: the attack on a root -----------------------------------------------------------------------


def test_another_agency_embedding_a_root_revokes_it_only_in_its_own_namespace(
    api: httpx.Client, world: World
) -> None:
    w, d = world, world.d
    a, b = w.a, w.b
    batch = issue_batch_of_a(api, w, first=10_000)
    r_a = batch.root

    # B's tree has A's root as a leaf; B issues it through the service, leaves and all.
    b3, y, proof = embedding_tree(r_a)
    issued = issue_through_api(api, signed_issue(d, b, b3), [r_a, y])
    assert issued["agency_id"] == b.agency_id

    # B revokes R_A against its own root, signed by its own key: the request is in B's namespace.
    revocation = signed_status(d, b, b, b3, r_a, proof, StatusAction.REVOKE, 5)
    assert revocation.request.agency_id == b.agency_id
    done = status_through_api(api, revocation)
    # Contract version 2 keeps statuses per agency: B may revoke what it proved into its own root, there.
    assert done["status"] == "confirmed", done
    assert done["agency_id"] == b.agency_id
    assert d.registry.status_of(b.agency_id, r_a).status is Status.REVOKED
    assert d.registry.status_of(a.agency_id, r_a).status is Status.NONE
    assert not d.registry.is_revoked(a.agency_id, r_a)
    assert d.registry.is_issued(a.agency_id, r_a)

    # What the service tells about A's batch and certificates did not change.
    answer = lookup(api, r_a, a.agency_id)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["kind"], body["verdict"], body["decided_by"]) == ("root", "valid", None)
    assert body["record"]["agency_id"] == a.agency_id
    assert body["record"]["signer"] == a.signer.address
    assert_not_answered_for(lookup(api, r_a), b, a)
    for document in batch.documents:
        report = verify(api, document)
        assert (report["verdict"], report["code"]) == ("valid", "valid"), report
        assert report["agency_id"] == a.agency_id


def test_a_status_change_signed_by_another_agency_in_the_owners_name_is_refused(
    api: httpx.Client, world: World
) -> None:
    w, d = world, world.d
    a, b = w.a, w.b
    batch = issue_batch_of_a(api, w, first=11_000)
    r_a = batch.root
    b3, y, proof = embedding_tree(r_a)
    issue_through_api(api, signed_issue(d, b, b3), [r_a, y])

    # B's key, A's namespace: on A's own root ...
    direct = signed_status(d, b, a, r_a, r_a, [], StatusAction.REVOKE, 5)
    assert direct.request.agency_id == a.agency_id
    assert_refused_in_a_name_not_its_own(
        api.post("/v1/revocations", json=direct.model_dump(mode="json")), b, a
    )
    # ... and through B's embedding tree.
    embedded = signed_status(d, b, a, b3, r_a, proof, StatusAction.SUSPEND, 5)
    assert_refused_in_a_name_not_its_own(
        api.post("/v1/revocations", json=embedded.model_dump(mode="json")), b, a
    )
    leaf = batch.leaves[0]
    on_leaf = signed_status(d, b, a, r_a, leaf, proof_of(batch.documents[0]), StatusAction.REVOKE, 5)
    assert_refused_in_a_name_not_its_own(
        api.post("/v1/revocations", json=on_leaf.model_dump(mode="json")), b, a
    )
    assert d.registry.status_of(a.agency_id, r_a).status is Status.NONE
    assert d.registry.status_of(a.agency_id, leaf).status is Status.NONE
    assert verify(api, batch.documents[0])["code"] == "valid"


def test_the_owner_revokes_its_own_root_after_another_agency_revoked_it_in_its_namespace(
    api: httpx.Client, world: World
) -> None:
    w, d = world, world.d
    a, b = w.a, w.b
    batch = issue_batch_of_a(api, w, first=12_000)
    r_a = batch.root
    b3, y, proof = embedding_tree(r_a)
    issue_through_api(api, signed_issue(d, b, b3), [r_a, y])
    assert (
        status_through_api(api, signed_status(d, b, b, b3, r_a, proof, StatusAction.REVOKE, 5))["status"]
        == "confirmed"
    )

    # A is not locked out (issue 10 said: 409 status-held-by-other).
    own = status_through_api(api, signed_status(d, a, a, r_a, r_a, [], StatusAction.REVOKE, 1))
    assert own["status"] == "confirmed", own
    assert own["agency_id"] == a.agency_id
    assert d.registry.status_of(a.agency_id, r_a).status is Status.REVOKED
    assert d.registry.is_revoked(a.agency_id, r_a)

    body = lookup(api, r_a, a.agency_id).json()
    assert (body["kind"], body["verdict"], body["reason"]) == ("root", "root-revoked", 1)
    assert body["record"]["agency_id"] == a.agency_id
    for document in batch.documents:
        report = verify(api, document)
        assert (report["verdict"], report["code"]) == ("invalid", "revoked"), report


# --- issue 10: the leaf variant ---------------------------------------------------------------------------


def test_another_agency_embedding_a_leaf_suspends_it_only_in_its_own_namespace(
    api: httpx.Client, world: World
) -> None:
    w, d = world, world.d
    a, b = w.a, w.b
    batch = issue_batch_of_a(api, w, first=13_000)
    document, leaf = batch.documents[0], batch.leaves[0]

    b3, y, proof = embedding_tree(leaf)
    issue_through_api(api, signed_issue(d, b, b3), [leaf, y])
    done = status_through_api(api, signed_status(d, b, b, b3, leaf, proof, StatusAction.SUSPEND, 7))
    assert done["status"] == "confirmed", done
    assert d.registry.status_of(b.agency_id, leaf).status is Status.SUSPENDED
    assert d.registry.status_of(a.agency_id, leaf).status is Status.NONE

    # GET /v1/credentials/{L}?agency=A answers A's record (issue 10: it answered B's).
    answer = lookup(api, leaf, a.agency_id)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["kind"], body["root"], body["valid"], body["verdict"]) == ("leaf", batch.root, True, "valid")
    assert body["record"]["agency_id"] == a.agency_id
    assert body["record"]["signer"] == a.signer.address
    assert_not_answered_for(lookup(api, leaf), b, a)
    report = verify(api, document)
    assert (report["verdict"], report["code"]) == ("valid", "valid"), report

    # A can still suspend and reinstate its own certificate.
    suspended = status_through_api(
        api, signed_status(d, a, a, batch.root, leaf, proof_of(document), StatusAction.SUSPEND, 7)
    )
    assert suspended["status"] == "confirmed", suspended
    assert verify(api, document)["code"] == "suspended"
    body = lookup(api, leaf, a.agency_id).json()
    assert (body["verdict"], body["record"]["agency_id"]) == ("leaf-suspended", a.agency_id)
    reinstated = status_through_api(
        api, signed_status(d, a, a, batch.root, leaf, proof_of(document), StatusAction.REINSTATE)
    )
    assert reinstated["status"] == "confirmed", reinstated
    assert verify(api, document)["code"] == "valid"
    assert lookup(api, leaf, a.agency_id).json()["verdict"] == "valid"
    # B's suspension in its own namespace is untouched by all this, and still changes nothing for A.
    assert d.registry.status_of(b.agency_id, leaf).status is Status.SUSPENDED
    suspend_as_b_for_a = signed_status(d, b, a, batch.root, leaf, proof_of(document), StatusAction.SUSPEND)
    assert_refused_in_a_name_not_its_own(
        api.post("/v1/revocations", json=suspend_as_b_for_a.model_dump(mode="json")), b, a
    )


def test_a_leaf_lookup_for_its_agency_answers_the_owner_after_two_agencies_interfered(
    api: httpx.Client, world: World
) -> None:
    w, d = world, world.d
    a, b, c = w.a, w.b, w.c
    batch = issue_batch_of_a(api, w, first=14_000)
    leaf = batch.leaves[1]
    for hostile, action in ((b, StatusAction.REVOKE), (c, StatusAction.SUSPEND)):
        root, y, proof = embedding_tree(leaf)
        issue_through_api(api, signed_issue(d, hostile, root), [leaf, y])
        assert (
            status_through_api(api, signed_status(d, hostile, hostile, root, leaf, proof, action, 2))[
                "status"
            ]
            == "confirmed"
        )
    body = lookup(api, leaf, a.agency_id).json()
    assert (body["kind"], body["root"], body["verdict"]) == ("leaf", batch.root, "valid")
    assert body["record"]["agency_id"] == a.agency_id
    hostile_view = lookup(api, leaf, b.agency_id).json()
    assert (hostile_view["verdict"], hostile_view["record"]["agency_id"]) == ("leaf-revoked", b.agency_id)
    assert_not_answered_for(lookup(api, leaf), b, a)
    assert verify(api, batch.documents[1])["code"] == "valid"


# --- issue 16: the squat ----------------------------------------------------------------------------------


def test_an_agency_records_its_root_after_other_agencies_squatted_it(api: httpx.Client, world: World) -> None:
    w, d = world, world.d
    a, b, c = w.a, w.b, w.c
    batch = w.d.batch(3, first=15_000)
    h = batch.root
    # B and C record A's hash first, through the same service.
    for hostile in (b, c):
        squat = issue_through_api(api, signed_issue(d, hostile, h))
        assert squat["agency_id"] == hostile.agency_id

    # A's own issuance is accepted (no 409 already-requested) and lands.
    response = api.post(
        "/v1/issuances",
        json=signed_issue(d, a, h, batch.valid_until).model_dump(mode="json") | {"leaves": batch.leaves},
    )
    assert response.status_code == 202, response.text
    done = settled(api, response.json()["location"])
    assert done["status"] == "confirmed", done
    assert done["agency_id"] == a.agency_id
    assert sorted(d.registry.issued_by(h)) == sorted([a.agency_id, b.agency_id, c.agency_id])

    ambiguous = assert_problem(lookup(api, h), 409, "ambiguous-hash", "agency")
    for agency in (a, b, c):
        assert str(agency.agency_id) in ambiguous["detail"]
    own = lookup(api, h, a.agency_id)
    assert own.status_code == 200, own.text
    body = own.json()
    assert (body["kind"], body["verdict"]) == ("root", "valid")
    assert body["record"]["agency_id"] == a.agency_id
    assert body["record"]["signer"] == a.signer.address
    assert body["record"]["valid_until"] == batch.valid_until
    assert body["batch"]["leaves_known"] == 3
    assert lookup(api, h, b.agency_id).json()["record"]["agency_id"] == b.agency_id
    leaf = lookup(api, batch.leaves[2], a.agency_id).json()
    assert (leaf["kind"], leaf["verdict"], leaf["record"]["agency_id"]) == ("leaf", "valid", a.agency_id)
    for document in batch.documents:
        report = verify(api, document)
        assert (report["verdict"], report["code"], report["agency_id"]) == ("valid", "valid", a.agency_id)


def test_a_squat_taken_from_the_outbox_does_not_stop_the_pending_issuance(
    world: World, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """B reads A's root from a request waiting in the service's outbox and records it first, directly on the
    ledger; the service then relays A's request, which lands in A's namespace."""
    w, d = world, world.d
    a, b = w.a, w.b
    service = Service(service_settings(tmp_path_factory.mktemp("outbox-squat"), d, outbox_worker=False))
    with (
        live_server(create_app(service.settings, service=service)) as url,
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        batch = d.batch(2, first=16_000)
        body = signed_issue(d, a, batch.root, batch.valid_until).model_dump(mode="json")
        accepted = client.post("/v1/issuances", json=body | {"leaves": batch.leaves})
        assert accepted.status_code == 202, accepted.text
        assert client.get(accepted.json()["location"]).json()["status"] == "pending"

        Relayer(d.registry, d.relayer).issue(signed_issue(d, b, batch.root))  # the front-run
        assert d.registry.issued_by(batch.root) == [b.agency_id]

        wait_for(lambda: service.outbox.run_once() == 0 and service.outbox.open_count() == 0, what="relayed")
        done = client.get(accepted.json()["location"]).json()
        assert done["status"] == "confirmed", done
        assert d.registry.record(a.agency_id, batch.root).signer == a.signer.address
        own = client.get(f"/v1/credentials/{batch.root}", params={"agency": a.agency_id}).json()
        assert (own["verdict"], own["record"]["agency_id"]) == ("valid", a.agency_id)
        assert client.post("/v1/verify", json=batch.documents[0]).json()["code"] == "valid"
