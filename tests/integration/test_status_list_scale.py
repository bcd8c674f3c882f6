"""The status lists of a real `credreg serve` process holding a large batch: the service keeps the batch's
leaves packed in its trees, not a Python object a leaf, so building the lists grows it by a few bytes a
leaf, and the bits and positions stay those of the rule (`credreg.vc.statuslist`). (The 1,000,000-leaf
figure is the benchmark's: scripts/bench/api.py.) `GET /v1/status/batches` streams the batches' leaves from
those trees a chunk at a time, byte for byte the JSON it answered when it built the whole answer first."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Annotated, overload

import httpx
import pytest
from chain_world import Deployed
from fastapi import Query, Request
from fastapi.responses import StreamingResponse
from service_support import (
    ServeProcess,
    live_server,
    process_mb,
    reset_peak,
    service_settings,
    serving_in_parts,
)

from credreg.api import create_app
from credreg.api.deps import ServiceDep, SettingsDep
from credreg.api.routes.status import (
    BatchPositions,
    StatusBatches,
    UnknownBatch,
    _lists,
    batches_body,
    status_base_url,
)
from credreg.chain.eip712 import StatusAction
from credreg.documents.merkle import MerkleTree
from credreg.registry import Relayer, sign_batch_leaves
from credreg.vc.statuslist import LIST_SIZE, bit_is_set, decode_list

LARGE = 100_000  # leaves of the batch whose lists' memory is measured
PART = 10_000
# The lists once held every leaf as Python strings (the batch's, and a position table keyed by them):
# about 420 bytes a leaf, 42 MB for 100,000 leaves. Packed in the batch's tree the leaves take 64 bytes
# a leaf (6.4 MB), and reading them back from the database a run of rows at a time adds little.
GROWTH_BOUND_MB = 20
# `GET /v1/status/batches` once built its whole answer (models, then one JSON string): 24 MB for a
# 100,000-leaf batch. Streamed from the trees it holds a chunk of 4,096 leaves at a time.
STREAM_GROWTH_BOUND_MB = 8


@pytest.fixture(scope="module")
def served(deployed: Deployed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    with serving_in_parts(deployed, tmp_path_factory.mktemp("status-scale"), PART) as process:
        yield process


def _upload(client: httpx.Client, d: Deployed, n: int) -> tuple[str, list[str], MerkleTree]:
    """A batch of `n` random leaves issued on the ledger and listed with the service in parts."""
    leaves = ["0x" + os.urandom(32).hex() for _ in range(n)]
    tree = MerkleTree(bytes.fromhex(x[2:]) for x in leaves)
    root = "0x" + tree.root.hex()
    Relayer(d.registry, d.relayer).issue(d.sign_issue(root))
    body = sign_batch_leaves(d.signer, d.registry.domain, d.agency_id, root, leaves).model_dump(mode="json")
    del body["leaves"], body["type"]
    started = client.post("/v1/batches/uploads", json=body | {"count": n})
    assert started.status_code in (200, 201), started.text
    location = started.json()["location"]
    for at in range(0, n, PART):
        part = client.put(f"{location}/parts/{at // PART + 1}", json={"leaves": leaves[at : at + PART]})
        assert part.status_code == 200, part.text
    done = client.post(f"{location}/complete")
    assert done.status_code == 200, done.text
    return root, leaves, tree


def _indexed(client: httpx.Client, block: int) -> None:
    deadline = time.monotonic() + 60
    while (client.get("/readyz").json()["indexed_to"] or -1) < block:
        assert time.monotonic() < deadline, f"the index did not reach block {block}"
        time.sleep(0.2)


def test_the_lists_of_a_large_batch_take_memory_bounded_by_packed_leaves(
    served: ServeProcess, deployed: Deployed
) -> None:
    d, pid = deployed, served.process.pid  # type: ignore[union-attr]
    with httpx.Client(base_url=served.url, timeout=120) as client:
        # Warm up every code path on a small batch first, so the measure is of the large batch alone.
        _upload(client, d, 50)
        _indexed(client, d.w3.eth.block_number)
        assert client.get("/v1/status/revocation/0").status_code == 200

        root, leaves, tree = _upload(client, d, LARGE)
        revoked = leaves[LARGE // 3]
        proof = ["0x" + p.hex() for p in tree.proof(bytes.fromhex(revoked[2:]))]
        Relayer(d.registry, d.relayer).set_status(d.sign_status(root, revoked, proof, StatusAction.REVOKE))
        _indexed(client, d.w3.eth.block_number)

        before = process_mb(pid, "VmRSS")
        reset_peak(pid)
        reply = client.get("/v1/status/revocation/0")
        growth = process_mb(pid, "VmHWM") - before
        assert reply.status_code == 200, reply.text
        bits = decode_list(reply.json()["credentialSubject"]["encodedList"])

        position = client.get(
            "/v1/status/position", params={"agency": d.agency_id, "root": root, "leaf": revoked}
        ).json()
        # The large batch follows the 50 leaves of the first, in merkle tree (sorted) order.
        assert position["position"] == 50 + tree.position(bytes.fromhex(revoked[2:]))
        assert {i for i in range(LIST_SIZE) if bit_is_set(bits, i)} == {position["position"]}
        assert client.get("/v1/status/revocation/1").status_code == 404  # 100,050 fit in one page

        # A later batch is read alone: the lists built before keep the large batch's tree.
        later_root, later, later_tree = _upload(client, d, 20)
        _indexed(client, d.w3.eth.block_number)
        again = client.get("/v1/status/revocation/0")
        assert again.status_code == 200, again.text
        assert decode_list(again.json()["credentialSubject"]["encodedList"]) == bits
        placed = client.get(
            "/v1/status/position", params={"agency": d.agency_id, "root": later_root, "leaf": later[0]}
        ).json()
        assert placed["position"] == 50 + LARGE + later_tree.position(bytes.fromhex(later[0][2:]))
    assert growth < GROWTH_BOUND_MB, f"the service grew by {growth:.1f} MB building the lists of {LARGE}"


def test_the_batches_answer_of_a_large_batch_streams_in_bounded_memory(
    served: ServeProcess, deployed: Deployed
) -> None:
    d, pid = deployed, served.process.pid  # type: ignore[union-attr]
    with httpx.Client(base_url=served.url, timeout=120) as client:
        small, _, _ = _upload(client, d, 30)
        root, _, tree = _upload(client, d, LARGE)
        _indexed(client, d.w3.eth.block_number)
        # Build the lists, and warm up the route, before the measure: it is of the answer alone.
        assert client.get("/v1/status/revocation/0").status_code == 200
        assert client.get("/v1/status/batches", params={"root": small}).status_code == 200

        growths = []
        for params in ({"root": root}, {}):
            before = process_mb(pid, "VmRSS")
            reset_peak(pid)
            reply = client.get("/v1/status/batches", params=params)
            growths.append(process_mb(pid, "VmHWM") - before)
            assert reply.status_code == 200, reply.text
            listed = {b["root"]: b for b in reply.json()["batches"]}
            assert listed[root]["leaves"] == ["0x" + leaf.hex() for leaf in tree.leaves]
        assert small in listed  # the whole answer: this test's batches and any listed before
    growth = max(growths)
    assert growth < STREAM_GROWTH_BOUND_MB, f"the service grew by {growth:.1f} MB answering {LARGE} leaves"


def _built_whole(
    request: Request,
    service: ServiceDep,
    settings: SettingsDep,
    agency: Annotated[int | None, Query()] = None,
    root: Annotated[str | None, Query()] = None,
) -> StatusBatches:
    """`GET /v1/status/batches` as it was before it streamed: the whole answer built, then rendered."""
    current = _lists(service)
    out = []
    offset = 0
    for batch in current.ledger.batches:
        wanted = (agency is None or batch.agency_id == agency) and (
            root is None or batch.root.lower() == root.lower()
        )
        if wanted:
            out.append(
                BatchPositions(
                    agency_id=batch.agency_id,
                    root=batch.root.lower(),
                    first_position=offset,
                    leaves=["0x" + leaf.hex() for leaf in batch.tree.leaves],
                )
            )
        offset += len(batch.tree)
    return StatusBatches(
        as_of_block=current.block,
        base_url=status_base_url(request, settings),
        operator_key=service.status_lists.key.did,
        batches=out,
        without_positions=[UnknownBatch(agency_id=a, root=r) for a, r in current.unknown],
    )


class _FailingLeaves(Sequence[bytes]):
    """Leaves that cannot be read past the first chunk, as a failure in the middle of an answer."""

    def __len__(self) -> int:
        return 10

    @overload
    def __getitem__(self, index: int) -> bytes: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[bytes]: ...
    def __getitem__(self, index: int | slice) -> bytes | Sequence[bytes]:
        if isinstance(index, slice) and (index.start or 0) > 0:
            raise OSError("the leaves could not be read")
        return [bytes(32)] * 4 if isinstance(index, slice) else bytes(32)


def test_the_streamed_batches_answer_is_byte_for_byte_the_whole_one(
    deployed: Deployed, tmp_path: Path
) -> None:
    app = create_app(service_settings(tmp_path / "service", deployed, upload_part_leaves=PART))
    # Ahead of the app's own routes (its pages catch every other path).
    app.add_api_route("/reference/batches", _built_whole, response_model=StatusBatches)
    app.router.routes.insert(0, app.router.routes.pop())

    def broken() -> StreamingResponse:
        head = {"as_of_block": 1, "base_url": "x", "list_size": LIST_SIZE, "operator_key": "k"}
        return StreamingResponse(batches_body(head, [(1, "0x", 0, _FailingLeaves())], [], chunk=4))

    app.add_api_route("/broken/batches", broken)
    app.router.routes.insert(0, app.router.routes.pop())
    with live_server(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        # Batches across the 4,096 leaves the answer is written at a time, one of a single leaf, and one
        # issued straight to the ledger whose leaves this service was not given.
        roots = [_upload(client, deployed, n)[0] for n in (1, 4_097, 9_000, 40)]
        unknown = "0x" + os.urandom(32).hex()
        Relayer(deployed.registry, deployed.relayer).issue(deployed.sign_issue(unknown))
        _indexed(client, deployed.w3.eth.block_number)
        asked: list[dict[str, str | int]] = [{}, {"agency": deployed.agency_id}, {"agency": 2**32 - 1}]
        asked += [{"root": r.upper().replace("0X", "0x")} for r in roots[1:3]]
        asked += [{"root": "0x" + "ab" * 32}]
        for params in asked:
            streamed = client.get("/v1/status/batches", params=params)
            whole = client.get("/reference/batches", params=params)
            assert streamed.status_code == whole.status_code == 200, (streamed.text, whole.text)
            assert streamed.headers["content-type"] == whole.headers["content-type"]
            assert streamed.content == whole.content, params
        body = client.get("/v1/status/batches").json()
        assert [b["root"] for b in body["batches"]][-4:] == [r.lower() for r in roots]
        assert sum(len(b["leaves"]) for b in body["batches"][-4:]) == 1 + 4_097 + 9_000 + 40
        assert {"agency_id": deployed.agency_id, "root": unknown} in body["without_positions"]

        # Before the first byte, an error is still a problem; in the middle of the answer the connection
        # ends without the terminating chunk, and what came is not JSON.
        refused = client.get("/v1/status/batches", params={"root": "0x12"})
        assert refused.status_code == 422
        assert refused.headers["content-type"].startswith("application/problem+json")
        received = bytearray()

        def read_broken() -> None:
            with client.stream("GET", "/broken/batches") as reply:
                assert reply.status_code == 200  # the status went before the failure
                for piece in reply.iter_bytes():
                    received.extend(piece)

        with pytest.raises(httpx.RemoteProtocolError):
            read_broken()
        assert received.startswith(b'{"as_of_block":1,')
        with pytest.raises(json.JSONDecodeError):
            json.loads(received)
