"""A batch upload in parts on PostgreSQL, as a deployment with several instances runs it: the parts go to
either instance, the same part sent to both at once is kept once, and the batch is served by both."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from chain_world import Deployed
from service_support import assert_problem, live_server, service_settings
from test_service_postgres import create_database, postgres  # noqa: F401 (the fixture)

from credreg.api import create_app
from credreg.documents.merkle import MerkleTree
from credreg.registry import Relayer, sign_batch_leaves

PART = 50


def test_two_instances_take_one_upload_part_by_part(
    postgres: str,  # noqa: F811 (the fixture imported above)
    deployed: Deployed,
    tmp_path: Path,
) -> None:
    url = create_database(postgres, "uploads")
    apps = [
        create_app(
            service_settings(
                tmp_path / name, deployed, database_url=url, worker_id=name, upload_part_leaves=PART
            )
        )
        for name in ("instance-a", "instance-b")
    ]
    leaves = ["0x" + os.urandom(32).hex() for _ in range(4 * PART + 7)]
    tree = MerkleTree(bytes.fromhex(x[2:]) for x in leaves)
    root = "0x" + tree.root.hex()
    Relayer(deployed.registry, deployed.relayer).issue(deployed.sign_issue(root))
    body: dict[str, Any] = sign_batch_leaves(
        deployed.signer, deployed.registry.domain, deployed.agency_id, root, leaves
    ).model_dump(mode="json")
    del body["leaves"], body["type"]
    body["count"] = len(leaves)
    with live_server(apps[0]) as a, live_server(apps[1]) as b, httpx.Client(timeout=30) as client:
        upload = client.post(f"{a}/v1/batches/uploads", json=body).json()
        assert client.post(f"{b}/v1/batches/uploads", json=body).json()["id"] == upload["id"]

        def put(base: str, n: int) -> httpx.Response:
            part = leaves[(n - 1) * PART : n * PART]
            return client.put(f"{base}{upload['location']}/parts/{n}", json={"leaves": part})

        assert put(a, 1).status_code == 200
        # The same part to both instances at once: both answer it acknowledged, and it is kept once.
        with ThreadPoolExecutor(2) as pool:
            both = list(pool.map(lambda base: put(base, 2), (a, b)))
        assert [r.status_code for r in both] == [200, 200], [r.text for r in both]
        state = client.get(f"{b}{upload['location']}").json()
        assert (state["parts"], state["received"]) == (2, 2 * PART)
        for n, base in ((3, b), (4, a), (5, b)):
            assert put(base, n).status_code == 200
        assert_problem(client.get(f"{a}/v1/credentials/{leaves[0]}"), 404, "unknown-hash")
        # Completed on both instances at once: listed once, every leaf counted as new once.
        with ThreadPoolExecutor(2) as pool:
            done = list(pool.map(lambda base: client.post(f"{base}{upload['location']}/complete"), (a, b)))
        assert [r.status_code for r in done] == [200, 200], [r.text for r in done]
        assert [r.json()["added"] for r in done] == [len(leaves)] * 2
        assert client.get(f"{a}{upload['location']}").json()["status"] == "listed"
        for base in (a, b):
            found = client.get(f"{base}/v1/credentials/{leaves[-1]}")
            assert found.status_code == 200, found.text
            assert found.json()["proof"] == [
                "0x" + p.hex() for p in tree.proof(bytes.fromhex(leaves[-1][2:]))
            ]
