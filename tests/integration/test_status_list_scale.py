"""The status lists of a real `credreg serve` process holding a large batch: the service keeps the batch's
leaves packed in its trees, not a Python object a leaf, so building the lists grows it by a few bytes a
leaf, and the bits and positions stay those of the rule (`credreg.vc.statuslist`). (The 1,000,000-leaf
figure is the benchmark's: scripts/bench/api.py.)"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from chain_world import Deployed
from service_support import ServeProcess, service_settings

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


def _mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def _reset_peak(pid: int) -> None:
    # Writing 5 to clear_refs resets the peak resident size (VmHWM) to the current one (Linux 4.0+).
    Path(f"/proc/{pid}/clear_refs").write_text("5")


@pytest.fixture(scope="module")
def served(deployed: Deployed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    workdir = tmp_path_factory.mktemp("status-scale")
    settings = service_settings(workdir / "service", deployed, upload_part_leaves=PART)
    process = ServeProcess(settings, workdir / "serve.log")
    base_env = process.env
    process.env = lambda: {**base_env(), "CREDREG_UPLOAD_PART_LEAVES": str(PART)}  # type: ignore[method-assign]
    process.start()
    try:
        yield process
    finally:
        process.stop()


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

        before = _mb(pid, "VmRSS")
        _reset_peak(pid)
        reply = client.get("/v1/status/revocation/0")
        growth = _mb(pid, "VmHWM") - before
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
