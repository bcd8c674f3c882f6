"""A large batch's leaves uploaded in parts to a real `credreg serve` process: the service's memory stays
bounded by a part, not by the batch, and a crash mid-upload keeps whole parts only, from which
`credreg batch upload` resumes. (The 1,000,000-leaf figures are the benchmark's: scripts/bench/api.py.)"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from chain_world import Deployed
from lifecycle_support import Cli
from service_support import ServeProcess, assert_problem, process_mb, reset_peak, serving_in_parts
from sqlalchemy import func, select

from credreg.documents.merkle import MerkleTree
from credreg.issuance import BatchSummary
from credreg.registry import Relayer, sign_batch_leaves
from credreg.service import Database
from credreg.service.db import UploadLeaf

LARGE = 100_000  # leaves of the batch whose upload's memory is measured
PART = 10_000  # the service's default part: 690 KB of JSON
# Holding 100,000 leaves as Python strings takes 12 MB, and their JSON 7 MB: a service that read the whole
# list (the body, the parsed list, a set or a tree of it) would grow by several times that. Taking it in
# parts of 10,000 grew the service by 16 MB (10 MB a part, 5 MB more to check and list the whole).
GROWTH_BOUND_MB = 24


@dataclass
class Served:
    deployed: Deployed
    process: ServeProcess
    workdir: Path


@pytest.fixture(scope="module")
def served(deployed: Deployed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    workdir = tmp_path_factory.mktemp("upload-scale")
    with serving_in_parts(deployed, workdir, PART) as process:
        yield Served(deployed, process, workdir)


def _batch(d: Deployed, n: int) -> tuple[str, list[str]]:
    leaves = ["0x" + os.urandom(32).hex() for _ in range(n)]
    root = "0x" + MerkleTree(bytes.fromhex(x[2:]) for x in leaves).root.hex()
    Relayer(d.registry, d.relayer).issue(d.sign_issue(root))
    return root, leaves


def _start(client: httpx.Client, d: Deployed, root: str, leaves: list[str]) -> dict[str, Any]:
    body = sign_batch_leaves(d.signer, d.registry.domain, d.agency_id, root, leaves).model_dump(mode="json")
    del body["leaves"], body["type"]
    reply = client.post("/v1/batches/uploads", json=body | {"count": len(leaves)})
    assert reply.status_code in (200, 201), reply.text
    started: dict[str, Any] = reply.json()
    return started


def _send(client: httpx.Client, upload: dict[str, Any], leaves: list[str], parts: range) -> None:
    for n in parts:
        part = leaves[(n - 1) * PART : n * PART]
        reply = client.put(f"{upload['location']}/parts/{n}", json={"leaves": part})
        assert reply.status_code == 200, reply.text


def test_the_service_takes_a_large_batch_in_memory_bounded_by_a_part(served: Served) -> None:
    d, pid = served.deployed, served.process.process.pid  # type: ignore[union-attr]
    with httpx.Client(base_url=served.process.url, timeout=120) as client:
        # Warm up every code path on a small batch first, so the measure is of the batch's size alone.
        root, leaves = _batch(d, 50)
        small = _start(client, d, root, leaves)
        _send(client, small, leaves, range(1, 2))
        assert client.post(f"{small['location']}/complete").json()["status"] == "listed"
        assert client.get(f"/v1/credentials/{leaves[0]}").status_code == 200

        root, leaves = _batch(d, LARGE)
        upload = _start(client, d, root, leaves)
        assert upload["parts_total"] == LARGE // PART
        before = process_mb(pid, "VmRSS")
        reset_peak(pid)
        _send(client, upload, leaves, range(1, upload["parts_total"] + 1))
        done = client.post(f"{upload['location']}/complete")
        assert done.status_code == 200, done.text
        assert done.json()["added"] == LARGE
        for leaf in (leaves[0], leaves[LARGE // 2], leaves[-1]):  # proofs are read by chunks
            found = client.get(f"/v1/credentials/{leaf}")
            assert found.status_code == 200, found.text
            assert found.json()["valid"] is True
        growth = process_mb(pid, "VmHWM") - before
    assert growth < GROWTH_BOUND_MB, f"the service grew by {growth:.1f} MB taking {LARGE} leaves"


def test_a_crash_mid_upload_keeps_whole_parts_and_the_cli_resumes(served: Served) -> None:
    d, process = served.deployed, served.process
    n = 2 * PART + 5_001  # three parts, the last one short
    root, leaves = _batch(d, n)
    with httpx.Client(base_url=process.url, timeout=60) as client:
        upload = _start(client, d, root, leaves)
        _send(client, upload, leaves, range(1, 2))

        # Part 2 in flight when the service is killed: it is kept whole or not at all.
        def send_part_two() -> None:
            with contextlib.suppress(httpx.HTTPError):
                client.put(f"{upload['location']}/parts/2", json={"leaves": leaves[PART : 2 * PART]})

        sender = threading.Thread(target=send_part_two)
        sender.start()
        time.sleep(0.15)
        process.kill()
        sender.join(30)
    db = Database(process.settings.effective_database_url)
    with db.session() as session:
        kept = session.scalar(
            select(func.count()).select_from(UploadLeaf).where(UploadLeaf.upload_id == upload["id"])
        )
    db.dispose()
    process.start()
    with httpx.Client(base_url=process.url, timeout=60) as client:
        state = client.get(upload["location"]).json()
        assert state["parts"] in (1, 2), state
        assert state["received"] == state["parts"] * PART == kept, (state, kept)
        assert_problem(client.get(f"/v1/credentials/{leaves[0]}"), 404, "unknown-hash")

    # `credreg batch upload` of the batch's summary goes on from the first part not acknowledged.
    summary = BatchSummary(
        batch_id="c" * 32, root=root, chain_id=d.registry.domain.chain_id, registry=d.registry.address,
        agency_id=d.agency_id, scope_id=d.scope_id, valid_until=0, signer=d.signer.address,
        transaction_hash=None, block_number=None, issued_at=1, count=n, files=[], leaves=leaves,
    )  # fmt: skip
    path = served.workdir / "batch-resumed.json"
    path.write_text(summary.model_dump_json(indent=2) + "\n", encoding="utf-8")
    cli = Cli(served.workdir, {"CREDREG_DATA_DIR": str(served.workdir / "service"), "CREDREG_RPC_URL": d.url})
    ran = cli.ok("batch", "upload", str(path), "--service", process.url, "--dev-account", "2")
    assert f"resuming upload {upload['id']} from part {state['parts'] + 1}" in ran.text
    assert f"{n} certificate(s), {n} new" in ran.text
    with httpx.Client(base_url=process.url, timeout=60) as client:
        assert client.get(f"/v1/credentials/{leaves[-1]}").json()["valid"] is True
        assert client.get(upload["location"]).json()["status"] == "listed"
