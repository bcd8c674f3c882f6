"""A batch too large for one request is uploaded in parts (`POST /v1/batches/uploads`): every leaf is checked
as it arrives, the whole against the signed hash and the batch's root at the end, and nothing of an upload is
served before it is complete and checked."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from chain_world import Deployed
from eth_account.signers.local import LocalAccount
from service_support import assert_problem, live_server, service_settings
from sqlalchemy import func, select, update

from credreg.api.app import create_app
from credreg.documents.merkle import MerkleTree
from credreg.errors import CredregError
from credreg.registry import Relayer, sign_batch_leaves
from credreg.service import Service
from credreg.service import uploads as uploads_module
from credreg.service.db import BatchLeaf, BatchUpload, UploadLeaf

PART = 100  # leaves a part holds in these tests


@dataclass
class Desk:
    deployed: Deployed
    client: httpx.Client
    service: Service


@pytest.fixture(scope="module")
def desk(deployed: Deployed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    settings = service_settings(
        tmp_path_factory.mktemp("uploads"), deployed, upload_part_leaves=PART, max_upload_leaves=1_000,
        max_open_uploads=3, max_leaves=200,
    )  # fmt: skip
    service = Service(settings)
    with (
        live_server(create_app(settings, service=service)) as url,
        httpx.Client(base_url=url, timeout=30) as c,
    ):
        yield Desk(deployed, c, service)


def _batch(d: Deployed, n: int) -> tuple[str, list[str]]:
    """`n` leaves in a random order, and their root, issued on the ledger by the agency."""
    leaves = ["0x" + os.urandom(32).hex() for _ in range(n)]
    root = "0x" + MerkleTree(bytes.fromhex(x[2:]) for x in leaves).root.hex()
    Relayer(d.registry, d.relayer).issue(d.sign_issue(root))
    return root, leaves


def _start_body(
    d: Deployed, root: str, leaves: list[str], *, signer: LocalAccount | None = None
) -> dict[str, Any]:
    signed = sign_batch_leaves(signer or d.signer, d.registry.domain, d.agency_id, root, leaves)
    body = signed.model_dump(mode="json")
    del body["leaves"], body["type"]
    return body | {"count": len(leaves)}


def _parts(leaves: list[str]) -> list[list[str]]:
    return [leaves[i : i + PART] for i in range(0, len(leaves), PART)]


def _start(desk: Desk, root: str, leaves: list[str], **kwargs: Any) -> dict[str, Any]:
    reply = desk.client.post("/v1/batches/uploads", json=_start_body(desk.deployed, root, leaves, **kwargs))
    assert reply.status_code in (200, 201), reply.text
    body: dict[str, Any] = reply.json()
    assert reply.headers["location"] == body["location"]
    return body


def _put(desk: Desk, upload: dict[str, Any], n: int, leaves: list[str]) -> httpx.Response:
    return desk.client.put(f"{upload['location']}/parts/{n}", json={"leaves": leaves})


def _unknown(desk: Desk, leaf: str) -> None:
    assert_problem(desk.client.get(f"/v1/credentials/{leaf}"), 404, "unknown-hash")


def _bilingual(body: dict[str, Any]) -> None:
    assert " / " in body["detail"], body
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["detail"]), body


def test_a_batch_sent_in_parts_is_served_once_complete_and_checked(desk: Desk) -> None:
    root, leaves = _batch(desk.deployed, 250)
    upload = _start(desk, root, leaves)
    assert (upload["status"], upload["parts_total"], upload["part_leaves"], upload["next_part"]) == (
        "open", 3, PART, 1,
    )  # fmt: skip
    for n, part in enumerate(_parts(leaves), start=1):
        reply = _put(desk, upload, n, part)
        assert reply.status_code == 200, reply.text
        assert reply.json()["parts"] == n
        _unknown(desk, part[0])  # nothing is served before the whole upload is checked
    done = desk.client.post(f"{upload['location']}/complete")
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["added"], done.json()["received"]) == ("listed", 250, 250)
    tree = MerkleTree(bytes.fromhex(x[2:]) for x in leaves)
    for leaf in (leaves[0], leaves[137], leaves[-1]):
        found = desk.client.get(f"/v1/credentials/{leaf}")
        assert found.status_code == 200, found.text
        assert found.json()["root"] == root
        assert found.json()["valid"] is True
    proof = desk.client.get(f"/v1/credentials/{leaves[137]}").json()["proof"]
    assert proof == ["0x" + p.hex() for p in tree.proof(bytes.fromhex(leaves[137][2:]))]
    # Read back a page at a time, in tree order.
    pages: list[str] = []
    after: str | None = None
    for _ in range(5):
        query = {"limit": 100} | ({"after": after} if after else {})
        page = desk.client.get(f"/v1/batches/{desk.deployed.agency_id}/{root}/leaves", params=query).json()
        assert page["count"] == 250
        pages += page["leaves"]
        after = page["next_after"]
        if after is None:
            break
    assert pages == sorted(leaves)
    assert_problem(
        desk.client.get(f"/v1/batches/{desk.deployed.agency_id + 1}/{root}/leaves"), 404, "not-found"
    )
    # The same upload started again: the listed one, nothing to send.
    again = _start(desk, root, leaves)
    assert (again["id"], again["status"], again["repeated"], again["next_part"]) == (
        upload["id"], "listed", True, None,
    )  # fmt: skip
    with desk.service.db.session() as session:
        staged = session.scalar(
            select(func.count()).select_from(UploadLeaf).where(UploadLeaf.upload_id == upload["id"])
        )
    assert staged == 0


def test_an_upload_resumes_from_the_last_acknowledged_part(desk: Desk) -> None:
    root, leaves = _batch(desk.deployed, 300)
    parts = _parts(leaves)
    upload = _start(desk, root, leaves)
    assert _put(desk, upload, 1, parts[0]).status_code == 200
    # The client lost its place: starting again finds the upload and what it has kept.
    again = _start(desk, root, leaves)
    assert (again["id"], again["repeated"], again["parts"], again["next_part"]) == (upload["id"], True, 1, 2)
    assert desk.client.get(upload["location"]).json()["received"] == PART
    # Part 1 sent again is compared with the one kept; other leaves are refused.
    assert _put(desk, upload, 1, parts[0]).json()["parts"] == 1
    assert_problem(_put(desk, upload, 1, parts[1]), 409, "upload-part-conflict", "leaves[0]")
    body = assert_problem(_put(desk, upload, 3, parts[2]), 409, "upload-part-out-of-order", "part")
    assert "the next part is 2" in body["detail"]
    for n in (2, 3):
        assert _put(desk, upload, n, parts[n - 1]).status_code == 200
    assert desk.client.post(f"{upload['location']}/complete").json()["status"] == "listed"


def test_a_leaf_that_is_not_a_hash_or_is_sent_twice_is_refused_naming_it(desk: Desk) -> None:
    root, leaves = _batch(desk.deployed, 200)
    parts = _parts(leaves)
    upload = _start(desk, root, leaves)
    bad = [*parts[0][:7], "0x1234", *parts[0][8:]]
    body = assert_problem(_put(desk, upload, 1, bad), 422, "invalid-leaf", "leaves[7]")
    assert "leaf 7 of part 1" in body["detail"]
    assert "'0x1234'" in body["detail"]
    _bilingual(body)
    assert _put(desk, upload, 1, parts[0]).status_code == 200
    twice = [*parts[1][:50], parts[0][3], *parts[1][51:]]
    body = assert_problem(_put(desk, upload, 2, twice), 422, "duplicate-leaf", "leaves[50]")
    assert parts[0][3] in body["detail"]
    within = [*parts[1][:99], parts[1][0]]
    assert_problem(_put(desk, upload, 2, within), 422, "duplicate-leaf", "leaves[99]")
    # A part of the wrong size, too many leaves or too few.
    assert_problem(_put(desk, upload, 2, [*parts[1], "0x" + "ab" * 32]), 413, "upload-too-large", "leaves")
    assert_problem(_put(desk, upload, 2, parts[1][:10]), 422, "validation", "leaves")
    assert_problem(_put(desk, upload, 3, parts[1]), 404, "not-found", "part")
    # None of it was kept: the upload still waits for part 2.
    assert desk.client.get(upload["location"]).json()["parts"] == 1
    assert desk.client.delete(upload["location"]).status_code == 204


def test_a_truncated_upload_is_not_served_and_says_where_to_go_on(desk: Desk) -> None:
    root, leaves = _batch(desk.deployed, 250)
    upload = _start(desk, root, leaves)
    assert _put(desk, upload, 1, _parts(leaves)[0]).status_code == 200
    body = assert_problem(
        desk.client.post(f"{upload['location']}/complete"), 422, "upload-incomplete", "parts"
    )
    assert "100 of 250 leaves received; go on from part 2" in body["detail"]
    _bilingual(body)
    _unknown(desk, leaves[0])
    # Discarded: its leaves go, and it is no longer found.
    assert desk.client.delete(upload["location"]).status_code == 204
    assert_problem(desk.client.get(upload["location"]), 404, "upload-not-found", "upload_id")
    with desk.service.db.session() as session:
        staged = session.scalar(
            select(func.count()).select_from(UploadLeaf).where(UploadLeaf.upload_id == upload["id"])
        )
    assert staged == 0


def test_leaves_that_do_not_build_the_root_discard_the_upload(desk: Desk) -> None:
    root, leaves = _batch(desk.deployed, 150)
    stray = [*leaves[:-1], "0x" + os.urandom(32).hex()]  # signed for, but not the root's leaves
    upload = _start(desk, root, stray)
    for n, part in enumerate(_parts(stray), start=1):
        assert _put(desk, upload, n, part).status_code == 200
    body = assert_problem(desk.client.post(f"{upload['location']}/complete"), 422, "invalid-leaves", "leaves")
    assert f"not the batch's root {root}" in body["detail"]
    _bilingual(body)
    assert_problem(desk.client.get(upload["location"]), 404, "upload-not-found")
    for leaf in (stray[0], stray[-1]):
        _unknown(desk, leaf)


def test_leaves_other_than_those_signed_for_discard_the_upload(desk: Desk) -> None:
    root, leaves = _batch(desk.deployed, 120)
    upload = _start(desk, root, leaves)
    swapped = list(reversed(leaves))  # the root's leaves, in another order than signed: another hash
    for n, part in enumerate(_parts(swapped), start=1):
        assert _put(desk, upload, n, part).status_code == 200
    body = assert_problem(desk.client.post(f"{upload['location']}/complete"), 422, "invalid-leaves", "leaves")
    assert "not the signed leaves_hash" in body["detail"]
    _unknown(desk, leaves[0])


def test_an_upload_is_checked_before_any_part_is_taken(desk: Desk) -> None:
    d = desk.deployed
    root, leaves = _batch(d, 10)
    too_many = _start_body(d, root, leaves) | {"count": 1_001}
    body = assert_problem(
        desk.client.post("/v1/batches/uploads", json=too_many), 413, "upload-too-large", "count"
    )
    assert "at most 1000" in body["detail"]
    assert_problem(
        desk.client.post("/v1/batches/uploads", json=_start_body(d, root, leaves, signer=d.admin)),
        422, "signer-not-of-agency", "signature",
    )  # fmt: skip
    unknown_root = "0x" + os.urandom(32).hex()
    assert_problem(
        desk.client.post("/v1/batches/uploads", json=_start_body(d, unknown_root, leaves)), 422, "not-issued"
    )
    assert_problem(desk.client.get(f"/v1/batches/uploads/{'0' * 8}-0000-4000-8000-{'0' * 12}"), 404,
                   "upload-not-found")  # fmt: skip


def test_an_agency_has_few_open_uploads_and_idle_ones_expire(desk: Desk) -> None:
    opened = []
    for _ in range(3):
        root, leaves = _batch(desk.deployed, 5)
        opened.append(_start(desk, root, leaves))
    root, leaves = _batch(desk.deployed, 5)
    body = assert_problem(
        desk.client.post("/v1/batches/uploads", json=_start_body(desk.deployed, root, leaves)),
        409,
        "upload-limit",
    )
    _bilingual(body)
    # One left alone past the time to live is discarded when the next upload starts.
    with desk.service.db.session() as session:
        session.execute(update(BatchUpload).where(BatchUpload.id == opened[0]["id"]).values(updated_ms=0))
    assert_problem(desk.client.get(opened[0]["location"]), 404, "upload-not-found")
    latest = _start(desk, root, leaves)
    with desk.service.db.session() as session:
        assert session.get(BatchUpload, opened[0]["id"]) is None
        # Leaves a crash left behind after their upload was listed go too.
        session.add(UploadLeaf(upload_id=opened[0]["id"], leaf="0x" + "ee" * 32, seq=0))
    desk.service.uploads.purge_expired()
    with desk.service.db.session() as session:
        assert session.scalar(select(func.count()).select_from(UploadLeaf)) == 0
    for upload in [*opened[1:], latest]:
        assert desk.client.delete(upload["location"]).status_code == 204


def test_a_failure_while_listing_leaves_nothing_half_written(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, leaves = _batch(desk.deployed, 120)
    upload = _start(desk, root, leaves)
    for n, part in enumerate(_parts(leaves), start=1):
        assert _put(desk, upload, n, part).status_code == 200

    def fail(*_: object) -> None:
        # After the leaves were inserted, in the same transaction. (A CredregError: answered 500 `internal` by
        # its handler, where any other exception also reaches the server's error log.)
        raise CredregError("the disk filled up")

    monkeypatch.setattr(uploads_module, "write_chunks", fail)
    assert desk.client.post(f"{upload['location']}/complete").status_code == 500
    _unknown(desk, leaves[0])
    state = desk.client.get(upload["location"]).json()
    assert (state["status"], state["received"]) == ("open", 120)
    monkeypatch.undo()
    assert desk.client.post(f"{upload['location']}/complete").json()["status"] == "listed"
    assert desk.client.get(f"/v1/credentials/{leaves[0]}").status_code == 200


def test_a_batch_too_large_for_one_request_is_pointed_to_the_uploads(desk: Desk) -> None:
    d = desk.deployed
    root, leaves = _batch(d, 201)
    whole = sign_batch_leaves(d.signer, d.registry.domain, d.agency_id, root, leaves).model_dump(mode="json")
    body = assert_problem(desk.client.post("/v1/batches", json=whole), 422, "batch-too-large", "leaves")
    assert "POST /v1/batches/uploads" in body["detail"]
    # The same batch in parts is taken.
    upload = _start(desk, root, leaves)
    for n, part in enumerate(_parts(leaves), start=1):
        assert _put(desk, upload, n, part).status_code == 200
    assert desk.client.post(f"{upload['location']}/complete").json()["added"] == 201


def test_an_upload_of_a_batch_known_in_part_adds_only_the_missing_leaves(desk: Desk) -> None:
    root, leaves = _batch(desk.deployed, 150)
    with desk.service.db.session() as session:  # as if some of its leaves had been listed another way
        session.add_all(BatchLeaf(agency_id=desk.deployed.agency_id, root=root, leaf=x) for x in leaves[:40])
    upload = _start(desk, root, leaves)
    for n, part in enumerate(_parts(leaves), start=1):
        assert _put(desk, upload, n, part).status_code == 200
    assert desk.client.post(f"{upload['location']}/complete").json()["added"] == 110
    assert desk.client.get(f"/v1/batches/{desk.deployed.agency_id}/{root}/leaves").json()["count"] == 150
    assert _start(desk, root, leaves)["status"] == "listed"  # the same upload again: listed already
