"""Regression test for the chain rewind of issue 12: the dev chain is hard-killed after issuances were
confirmed, and comes back from an older saved state without them.

Before, the lost requests' rows still said `confirmed` and were never re-sent, `/v1/credentials` answered 404
for them, the index kept phantom `CredentialIssued` rows, `/readyz` said ready, and requests accepted after
the restart stayed `submitted` forever behind the relayer's cached nonce.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import httpx
from chain_world import deploy_world
from service_support import (
    index_rows,
    issued_events,
    live_server,
    rpc,
    service_settings,
    settled,
    wait_for,
)

from credreg.api import create_app
from credreg.chain.devchain import DevChain, free_port
from credreg.registry import SignedIssue
from credreg.service import Database, EventIndex, Service


def issue_all(client: httpx.Client, signed: list[SignedIssue]) -> list[str]:
    locations = []
    for s in signed:
        response = client.post("/v1/issuances", json=s.model_dump(mode="json"))
        assert response.status_code == 202, response.text
        locations.append(response.json()["location"])
    return locations


def test_a_rewound_chain_is_noticed_and_what_it_lost_is_sent_again_exactly_once(tmp_path: Path) -> None:
    node = DevChain(tmp_path / "node", port=free_port())
    assert node.state_path is not None
    saved = tmp_path / "saved-state.json"
    node.start()
    try:
        d = deploy_world(node.url)
        settings = service_settings(tmp_path / "service", d)
        before = [d.sign_issue() for _ in range(3)]
        later = [d.sign_issue() for _ in range(5)]
        # Good for a minute only: by the time the ledger has lost it, its signature has expired.
        short = d.registry.sign_issue(
            d.signer,
            d.registry.issue_request("0x" + "5e" * 32, d.scope_id, 0, deadline=d.registry.block_time() + 60),
        )
        after = [d.sign_issue() for _ in range(3)]

        with live_server(create_app(settings)) as url, httpx.Client(base_url=url, timeout=30) as client:
            done = [settled(client, loc) for loc in issue_all(client, before)]
            assert [r["status"] for r in done] == ["confirmed"] * 3

            # A clean stop saves the ledger; that saved state is what the chain will come back to.
            node.stop()
            shutil.copyfile(node.state_path, saved)
            node.start()
            kept_head = d.registry.head()

            lost_locations = issue_all(client, [*later, short])
            lost = [settled(client, loc) for loc in lost_locations]
            assert [r["status"] for r in lost] == ["confirmed"] * 6, lost
            lost_head = d.registry.head()
            wait_for(
                lambda: client.get("/v1/audit/events").json()["indexed_to"] >= lost_head,
                what="the index to read the blocks that will be lost",
            )
            assert client.get("/readyz").status_code == 200

            # SIGKILL, and the chain restarts from the older saved state: the later blocks are gone. (Anvil
            # also saves every 2 s; putting the clean stop's state back is a kill just before the next save.)
            node.kill()
            shutil.copyfile(saved, node.state_path)
            # Re-sent transactions wait in the pool while the test looks (no automine); the new chain grows
            # past the old height with other blocks, so the lost heights now hold other hashes.
            node.options = ("--no-mining",)
            node.start()
            assert d.registry.head() == kept_head
            rpc(d, "anvil_mine", hex(lost_head - kept_head + 2))
            rpc(d, "evm_increaseTime", hex(120))  # past the short request's deadline
            rpc(d, "evm_mine")

            diverged = wait_for(
                lambda: (lambda r: r.json() if r.status_code == 503 and r.json()["diverged"] else None)(
                    client.get("/readyz")
                ),
                what="/readyz to say the service diverged from the ledger",
            )
            assert diverged["ready"] is False
            assert "lost the blocks after" in diverged["detail"], diverged
            reopened = wait_for(
                lambda: (lambda rows: rows if all(r["status"] != "confirmed" for r in rows) else None)(
                    [client.get(loc).json() for loc in lost_locations]
                ),
                what="the lost requests to be re-opened",
            )
            # Re-opened: said why while it waits to be looked for on the ledger; sent again once not found.
            assert all(
                r["status"] == "submitted" or "the ledger lost block" in (r["last_problem"] or "")
                for r in reopened
            ), reopened

            # Accepted after the restart, while the relayer's counted nonce was ahead of the chain.
            new_locations = issue_all(client, after)
            wait_for(
                lambda: all(
                    client.get(loc).json()["status"] == "submitted"
                    for loc in [*lost_locations[:5], *new_locations]
                ),
                what="the lost and the new requests to be sent",
            )
            assert client.get("/readyz").status_code == 503  # still re-checking: not ready
            rpc(d, "evm_setAutomine", True)
            rpc(d, "evm_mine")

            def first_ready() -> dict[str, Any] | None:
                response = client.get("/readyz")
                if response.status_code != 200:
                    return None
                # Ready only once every lost request was checked again and has settled.
                rows = [client.get(loc).json() for loc in lost_locations]
                assert all(r["status"] in ("confirmed", "failed") for r in rows), rows
                body: dict[str, Any] = response.json()
                return body

            ready = wait_for(first_ready, what="/readyz to say ready after re-syncing")
            assert ready["diverged"] is False
            resent = [settled(client, loc) for loc in lost_locations]
            fresh = [settled(client, loc) for loc in new_locations]

            assert [r["status"] for r in resent[:5]] == ["confirmed"] * 5, resent
            expired = resent[5]
            assert expired["status"] == "failed", expired
            assert expired["error"]["name"] == "CredentialRegistryExpiredSignature"
            assert "sign it again" in expired["error"]["message"]
            assert [r["status"] for r in fresh] == ["confirmed"] * 3, fresh
            for s in [*later, *after]:
                answer = client.get(f"/v1/credentials/{s.request.root}")
                assert answer.status_code == 200, answer.text
                assert answer.json()["verdict"] == "valid", answer.json()
            head = d.registry.head()
            wait_for(
                lambda: client.get("/v1/audit/events").json()["indexed_to"] >= head, what="index caught up"
            )
            time.sleep(0.2)  # one more round of the index thread, to see it stays as it is

        # Exactly once on the ledger; the expired one not at all.
        for s, row in zip([*before, *later, *after], [*done, *resent[:5], *fresh], strict=True):
            events = issued_events(d, s.request.root)
            assert len(events) == 1, f"{s.request.root} issued {len(events)} times"
            assert events[0]["transactionHash"].to_0x_hex() == row["tx_hash"]
        assert issued_events(d, short.request.root) == []

        # The index equals a fresh rebuild: no phantom rows, the real events there.
        live = index_rows(Service(settings).db)
        fresh_db = Database(f"sqlite:///{tmp_path / 'rebuilt.sqlite'}")
        fresh_db.create_schema()
        EventIndex(fresh_db, d.registry).rebuild()
        assert live == index_rows(fresh_db)
        issued_roots = {r[8] for r in live if r[6] == "CredentialIssued"}
        assert {s.request.root for s in [*before, *later, *after]} <= issued_roots
        assert short.request.root not in issued_roots
    finally:
        node.stop()


def test_a_reorg_at_the_same_height_is_rolled_back_to_the_common_ancestor(
    chain: DevChain, tmp_path: Path
) -> None:
    d = deploy_world(chain.url)
    service = Service(service_settings(tmp_path / "service", d, outbox_worker=False, index_follower=False))
    service.db.create_schema()
    outbox, index = service.outbox, service.index

    def relay(signed: list[SignedIssue]) -> list[str]:
        ids = [outbox.accept_issue(s)[0].id for s in signed]
        for _ in range(50):
            outbox.run_once()
            rows = [outbox.get(i) for i in ids]
            if all(r is not None and r.status in ("confirmed", "failed") for r in rows):
                break
        else:
            raise AssertionError("the outbox did not settle within 50 rounds")
        return ids

    kept = [d.sign_issue() for _ in range(2)]
    relay(kept)
    index.catch_up()
    fork = d.registry.head()
    snapshot = rpc(d, "evm_snapshot")
    replaced = [d.sign_issue() for _ in range(3)]
    replaced_ids = relay(replaced)
    index.catch_up()
    replaced_head = d.registry.head()
    assert service.readiness().ready

    # The chain goes back to the fork and grows past the old head with other blocks: same heights, other
    # hashes, the relayer's nonce on the chain lower than the one the service counted.
    rpc(d, "evm_revert", snapshot)
    rpc(d, "anvil_mine", hex(replaced_head - fork + 2))
    assert d.registry.head() > replaced_head
    assert service.readiness().ready  # nothing has looked yet: the head alone does not tell

    index.catch_up()
    state = service.readiness()
    assert not state.ready, state
    assert state.diverged, state
    rewind = index.diverged()
    assert rewind is not None
    assert (rewind.ancestor, rewind.lost_to) == (fork, replaced_head)

    for _ in range(50):
        outbox.run_once()
        index.catch_up()
        if service.readiness().ready:
            break
    else:
        raise AssertionError("the service did not re-sync within 50 rounds")
    rows = [outbox.get(i) for i in replaced_ids]
    assert [r.status for r in rows if r is not None] == ["confirmed"] * 3
    for s in [*kept, *replaced]:
        assert len(issued_events(d, s.request.root)) == 1
    fresh_db = Database(f"sqlite:///{tmp_path / 'rebuilt.sqlite'}")
    fresh_db.create_schema()
    EventIndex(fresh_db, d.registry).rebuild()
    assert index_rows(service.db) == index_rows(fresh_db)
    service.stop()


def test_a_transaction_stuck_behind_a_nonce_gap_is_sent_again_with_the_chains_nonce(
    chain: DevChain, tmp_path: Path
) -> None:
    d = deploy_world(chain.url)
    service = Service(service_settings(tmp_path / "service", d, outbox_worker=False, index_follower=False))
    service.db.create_schema()
    outbox = service.outbox
    sender = outbox.relayer.sender
    on_chain = d.registry.w3.eth.get_transaction_count(sender.address)
    # As after a rewind nobody noticed yet: the counted nonce is ahead of the chain.
    sender._nonce = on_chain + 3

    row, _ = outbox.accept_issue(d.sign_issue())
    outbox.run_once()
    stuck = outbox.get(row.id)
    assert stuck is not None
    assert stuck.status == "submitted"
    assert stuck.tx_hash is not None
    assert rpc(d, "eth_getTransactionByHash", stuck.tx_hash)["blockNumber"] is None  # queued, never mined

    def confirmed() -> bool:
        outbox.run_once()
        current = outbox.get(row.id)
        return current is not None and current.status == "confirmed"

    wait_for(confirmed, timeout=15, what="the stuck request to be sent again and confirmed")
    done = outbox.get(row.id)
    assert done is not None
    assert done.tx_hash != stuck.tx_hash
    assert done.attempts == 2
    assert len(issued_events(d, row.root)) == 1
    service.stop()
