"""Nothing accepted is lost and nothing lands twice: a SIGKILLed `credreg serve`, a restarted chain node, and
an event index that restarts and rebuilds to exactly the same rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from chain_world import deploy_world
from eth_account.signers.local import LocalAccount
from service_support import (
    ServeProcess,
    assert_problem,
    index_rows,
    issued_events,
    live_server,
    make_history,
    rpc,
    service_settings,
    settled,
    wait_for,
)

from credreg.api import create_app
from credreg.chain.devchain import DevChain, free_port
from credreg.registry import SignedIssue
from credreg.service import Database, EventIndex, Service


def statuses(client: httpx.Client, ids: list[str]) -> list[dict[str, Any]]:
    return [client.get(f"/v1/issuances/{i}").json() for i in ids]


def test_outbox_survives_a_killed_service_process(
    chain: DevChain, anvil_accounts: list[LocalAccount], tmp_path: Path
) -> None:
    d = deploy_world(chain.url)
    relayer = anvil_accounts[9]  # the service's default dev relayer
    settings = service_settings(tmp_path / "service", d, outbox_worker=False)
    log = tmp_path / "serve.log"
    signed: list[SignedIssue] = [d.sign_issue() for _ in range(3)]

    serve = ServeProcess(settings, log)
    try:
        # 1. Accepted and committed, nothing sent yet: killed.
        serve.start()
        with httpx.Client(base_url=serve.url, timeout=30) as client:
            accepted = [client.post("/v1/issuances", json=s.model_dump(mode="json")) for s in signed]
            assert [a.status_code for a in accepted] == [202, 202, 202]
            ids = [a.json()["id"] for a in accepted]
        serve.kill()
        assert not any(d.registry.is_issued(d.agency_id, s.request.root) for s in signed)

        # 2. Restarted with the relay worker; transactions sent but not mined yet: killed again.
        rpc(d, "evm_setAutomine", False)
        serve = ServeProcess(settings.model_copy(update={"outbox_worker": True}), log)
        serve.start()
        with httpx.Client(base_url=serve.url, timeout=30) as client:
            submitted = wait_for(
                lambda: (lambda rows: rows if all(r["status"] == "submitted" for r in rows) else None)(
                    statuses(client, ids)
                ),
                what="all three to be submitted",
            )
        serve.kill()
        first_hashes = [r["tx_hash"] for r in submitted]
        assert all(first_hashes)
        # The node loses the last transaction (as a restarted node loses its pool).
        rpc(d, "anvil_dropTransaction", first_hashes[2])
        assert rpc(d, "eth_getTransactionByHash", first_hashes[2]) is None

        # 3. Restarted: the two in the pool are followed, not resent; the lost one is sent again.
        serve.start()
        with httpx.Client(base_url=serve.url, timeout=30) as client:
            wait_for(
                lambda: rpc(
                    d, "eth_getTransactionByHash", client.get(f"/v1/issuances/{ids[2]}").json()["tx_hash"]
                ),
                what="the lost transaction to be sent again",
            )
            rows = statuses(client, ids)
            assert [r["status"] for r in rows] == ["submitted"] * 3
            assert [r["tx_hash"] for r in rows[:2]] == first_hashes[:2]
            assert [r["attempts"] for r in rows] == [1, 1, 2]
            rpc(d, "evm_mine")
            rpc(d, "evm_setAutomine", True)
            done = [settled(client, f"/v1/issuances/{i}") for i in ids]
    finally:
        serve.stop()

    assert [r["status"] for r in done] == ["confirmed"] * 3, done
    assert [r["tx_hash"] for r in done[:2]] == first_hashes[:2]
    for s, row in zip(signed, done, strict=True):
        events = issued_events(d, s.request.root)
        assert len(events) == 1, f"{s.request.root} issued {len(events)} times"
        assert events[0]["transactionHash"].to_0x_hex() == row["tx_hash"]
    # Exactly three relaying transactions ever reached the ledger: nothing was sent twice.
    assert d.registry.w3.eth.get_transaction_count(relayer.address) == 3


def test_worker_processes_answer_while_one_process_relays_and_indexes(
    chain: DevChain, anvil_accounts: list[LocalAccount], tmp_path: Path
) -> None:
    d = deploy_world(chain.url)
    relayer = anvil_accounts[9]  # the service's default dev relayer
    settings = service_settings(tmp_path / "service", d)
    signed = [d.sign_issue() for _ in range(4)]
    serve = ServeProcess(settings, tmp_path / "serve.log", workers=2).start()
    try:
        with httpx.Client(base_url=serve.url, timeout=30) as client:
            accepted = [client.post("/v1/issuances", json=s.model_dump(mode="json")) for s in signed]
            assert [a.status_code for a in accepted] == [202] * 4
            done = [settled(client, f"/v1/issuances/{a.json()['id']}") for a in accepted]
            roots = {s.request.root for s in signed}
            indexed = wait_for(
                lambda: (lambda page: page if {e["root"] for e in page["events"]} == roots else None)(
                    client.get("/v1/audit/events", params={"type": "CredentialIssued"}).json()
                ),
                what="the index to hold the four issuances",
            )
            assert client.get("/readyz").status_code == 200
    finally:
        serve.stop()

    assert [r["status"] for r in done] == ["confirmed"] * 4, done
    assert len(indexed["events"]) == 4
    for s in signed:
        assert len(issued_events(d, s.request.root)) == 1
    # One relayer for all the workers: each request was sent exactly once.
    assert d.registry.w3.eth.get_transaction_count(relayer.address) == 4


def test_outbox_survives_a_restarted_chain_node(tmp_path: Path) -> None:
    node = DevChain(tmp_path / "node", port=free_port())
    node.start()
    try:
        d = deploy_world(node.url)
        settings = service_settings(tmp_path / "service", d)
        signed = [d.sign_issue() for _ in range(2)]
        with live_server(create_app(settings)) as url, httpx.Client(base_url=url, timeout=30) as client:
            rpc(d, "evm_setAutomine", False)
            ids = [client.post("/v1/issuances", json=s.model_dump(mode="json")).json()["id"] for s in signed]
            wait_for(
                lambda: all(r["status"] == "submitted" for r in statuses(client, ids)), what="both submitted"
            )

            node.stop()  # a clean stop writes the ledger; the transaction pool is not kept
            unready = client.get("/readyz")
            assert unready.status_code == 503
            assert unready.headers["retry-after"]
            assert unready.json()["chain_reachable"] is False
            down = assert_problem(client.get("/v1/registry"), 503, "chain-unavailable")
            assert "try again" in down["detail"]
            refused = client.post("/v1/issuances", json=d.sign_issue().model_dump(mode="json"))
            assert_problem(refused, 503, "chain-unavailable")
            assert int(refused.headers["retry-after"]) > 0
            wait_for(
                lambda: all("unreachable" in (r["last_problem"] or "") for r in statuses(client, ids)),
                what="the worker to notice the node is gone",
            )
            assert [r["status"] for r in statuses(client, ids)] == ["submitted"] * 2

            node.start()
            done = [settled(client, f"/v1/issuances/{i}") for i in ids]
            assert [r["status"] for r in done] == ["confirmed"] * 2, done
            wait_for(lambda: client.get("/readyz").status_code == 200, what="ready again")
        for s in signed:
            assert len(issued_events(d, s.request.root)) == 1
    finally:
        node.stop()


def test_event_index_restarts_and_rebuilds_to_the_same_rows(chain: DevChain, tmp_path: Path) -> None:
    d = deploy_world(chain.url)
    settings = service_settings(tmp_path / "service", d, index_chunk_blocks=4)
    with live_server(create_app(settings)) as url, httpx.Client(base_url=url, timeout=30) as client:
        make_history(d, client, 0)
        head = d.registry.head()
        wait_for(lambda: client.get("/v1/audit/events").json()["indexed_to"] >= head, what="index caught up")

    # A restart goes on from its cursor: nothing is read twice, nothing missed.
    with live_server(create_app(settings)) as url, httpx.Client(base_url=url, timeout=30) as client:
        make_history(d, client, 10)
        head = d.registry.head()
        wait_for(lambda: client.get("/v1/audit/events").json()["indexed_to"] >= head, what="index caught up")
        names = {e["type"] for e in client.get("/v1/audit/events", params={"limit": 1000}).json()["events"]}
    assert {
        "CredentialIssued",
        "CredentialStatusChanged",
        "AgencySuspended",
        "AgencyReinstated",
        "SignerAdded",
    } <= names

    service = Service(settings)
    live = index_rows(service.db)
    assert len(live) == len({(r[0], r[1]) for r in live}) > 15

    fresh_db = Database(f"sqlite:///{tmp_path / 'rebuilt.sqlite3'}")
    fresh_db.create_schema()
    rebuilt_to = EventIndex(fresh_db, service.registry, chunk=1_000).rebuild()
    assert rebuilt_to == head
    assert index_rows(fresh_db) == live

    assert service.index.rebuild() == head  # in place, too
    assert index_rows(service.db) == live

    deep = EventIndex(fresh_db, service.registry, confirmations=3, chunk=7)
    assert deep.rebuild() == head - 3
    assert index_rows(fresh_db) == [r for r in live if r[0] <= head - 3]
    service.db.dispose()
    fresh_db.dispose()
