"""The ledger cache answers verification as of the block the event index read last, names that block, and
never answers what the chain did not say at it: after a revocation or suspension, a rewind, an expiry, or
while the index is behind."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from chain_world import Batch, Deployed, deploy_world, random_hash
from service_support import ServeProcess, live_server, rpc, service_settings, wait_for

from credreg.api import create_app
from credreg.chain.devchain import DevChain
from credreg.chain.eip712 import StatusAction
from credreg.documents.merkle import combine
from credreg.hashes import hash32, hash_bytes
from credreg.registry import BlockHead, CredentialState, Relayer, StatusQuery, Verdict
from credreg.service import Service
from credreg.service.ledgercache import LedgerCache
from credreg.verify import verify_documents


class Reads:
    """Counts the cache's reads from the chain."""

    def __init__(self, cache: LedgerCache, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[BlockHead | None] = []
        chain_statuses: Callable[..., tuple[BlockHead, list[CredentialState]]] = cache.registry.statuses

        def counted(
            queries: list[StatusQuery], *, at: BlockHead | None = None
        ) -> tuple[BlockHead, list[CredentialState]]:
            self.calls.append(at)
            return chain_statuses(queries, at=at)

        monkeypatch.setattr(cache.registry, "statuses", counted)


def world(chain: DevChain, tmp_path: Path, **overrides: Any) -> tuple[Deployed, Service]:
    d = deploy_world(chain.url)
    settings = service_settings(
        tmp_path / "service", d, outbox_worker=False, index_follower=False, **overrides
    )
    service = Service(settings)
    service.db.create_schema()  # no threads: each test moves the index and the cache itself
    return d, service


def caught_up(service: Service) -> BlockHead:
    """The index reads to the head and the cache follows; the cache's new as-of block."""
    service.index.catch_up()
    assert service.ledger is not None
    as_of = service.ledger.refresh()
    assert as_of is not None, "the cache should answer once the index has read the head"
    return as_of


def proof_of(document: Any) -> list[str]:
    return ["0x" + p for p in document["signature"]["proof"]]


def codes(service: Service, batch: Batch) -> tuple[list[str], set[int | None]]:
    reports = verify_documents(service.reads, batch.documents)
    return [r.code for r in reports], {r.checked_block for r in reports}


def test_answers_change_after_a_revocation_or_suspension_once_the_index_has_read_its_block(
    chain: DevChain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    d, service = world(chain, tmp_path)
    assert service.ledger is not None
    relayer = Relayer(d.registry, d.relayer)
    batch = d.batch(4)
    relayer.issue(d.sign_batch(batch))
    issued = caught_up(service)
    reads = Reads(service.ledger, monkeypatch)

    assert codes(service, batch) == (["valid"] * 4, {issued.number})
    assert len(reads.calls) == 1, "the batch's certificates share their root's answer: one read"
    assert codes(service, batch) == (["valid"] * 4, {issued.number})
    assert len(reads.calls) == 1, "answered from memory"

    relayer.set_status(
        d.sign_status(batch.root, batch.leaves[1], proof_of(batch.documents[1]), StatusAction.REVOKE, 3)
    )
    revoked_at = d.registry.latest_head()
    # Until the index has read the revocation's block, the answer is the earlier block's, and says so.
    assert codes(service, batch) == (["valid"] * 4, {issued.number})
    _, (at_issued,) = d.registry.statuses(
        [(d.agency_id, batch.root, batch.leaves[1], proof_of(batch.documents[1]))], at=issued
    )
    assert at_issued.verdict is Verdict.VALID, "the block named is the block the answer is of"

    assert caught_up(service) == revoked_at
    assert codes(service, batch) == (["valid", "revoked", "valid", "valid"], {revoked_at.number})

    # A suspension of a part of the batch (the parent of certificates 2 and 3) reaches both of them.
    leaf, proof = hash_bytes(batch.leaves[2]), proof_of(batch.documents[2])
    node = hash32(combine(leaf, hash_bytes(proof[0])))
    relayer.set_status(d.sign_status(batch.root, node, proof[1:], StatusAction.SUSPEND, 6))
    suspended_at = caught_up(service)
    reports = verify_documents(service.reads, batch.documents)
    below = {batch.leaves[2], hash32(proof[0])}
    expected = [
        "revoked" if n == 1 else ("suspended" if leaf_hash in below else "valid")
        for n, leaf_hash in enumerate(batch.leaves)
    ]
    assert expected.count("suspended") >= 1
    assert [r.code for r in reports] == expected
    assert {r.checked_block for r in reports} == {suspended_at.number}
    assert {r.checked_at for r in reports} == {suspended_at.timestamp}
    # Each answer is what the chain itself says at the block named.
    _, chain_says = d.registry.statuses(
        [
            (d.agency_id, batch.root, lf, proof_of(doc))
            for lf, doc in zip(batch.leaves, batch.documents, strict=True)
        ],
        at=suspended_at,
    )
    cached = service.ledger.statuses(
        [
            (d.agency_id, batch.root, lf, proof_of(doc))
            for lf, doc in zip(batch.leaves, batch.documents, strict=True)
        ]
    )
    assert cached == (suspended_at, chain_says)

    # Reinstated: the batch is whole again for every verifier once the index has read it.
    relayer.set_status(d.sign_status(batch.root, node, proof[1:], StatusAction.REINSTATE, 0))
    reinstated_at = caught_up(service)
    assert codes(service, batch)[0] == ["valid", "revoked", "valid", "valid"]
    assert codes(service, batch)[1] == {reinstated_at.number}


def test_a_rewind_drops_every_cached_answer(chain: DevChain, tmp_path: Path) -> None:
    d, service = world(chain, tmp_path)
    assert service.ledger is not None
    relayer = Relayer(d.registry, d.relayer)

    def resync() -> None:
        for _ in range(20):
            service.outbox.run_once()  # nothing to re-check: it only records that it looked
            service.index.catch_up()
            if service.readiness().ready:
                return
        raise AssertionError("the service did not re-sync within 20 rounds")

    fork = rpc(d, "evm_snapshot")
    root = random_hash()
    relayer.issue(d.sign_issue(root))
    issued = caught_up(service)
    query: StatusQuery = (d.agency_id, root, root, [])
    assert service.ledger.statuses([query]) == (issued, [d.registry.credential_status(*query)])
    assert service.ledger.statuses([query])[1][0].verdict is Verdict.VALID

    # The chain loses the issuance and grows past it with other blocks at the same heights; the index rolls
    # back and reads the new chain before the cache looks again. The new block is past the old one and no
    # event of the agency came since: only the rewind tells the cache to forget.
    assert rpc(d, "evm_revert", fork) is True
    rpc(d, "anvil_mine", hex(3))
    resync()
    as_of = caught_up(service)
    assert as_of == d.registry.latest_head()
    assert as_of.number > issued.number
    as_of_block, (state,) = service.ledger.statuses([query])
    assert (as_of_block, state.verdict) == (as_of, Verdict.NOT_ISSUED)

    # Again, and this time the cache looks before the index: the chain no longer has the block the index
    # read, so the cache steps aside and the chain's head answers until the index has read the chain again.
    fork = rpc(d, "evm_snapshot")
    again = random_hash()
    relayer = Relayer(d.registry, d.relayer)  # its nonce from the chain, which lost a transaction
    relayer.issue(d.sign_issue(again))
    caught_up(service)
    assert service.ledger.statuses([(d.agency_id, again, again, [])])[1][0].verdict is Verdict.VALID
    assert rpc(d, "evm_revert", fork) is True
    rpc(d, "anvil_mine", hex(3))
    head = d.registry.latest_head()
    assert service.ledger.refresh() is None
    lost = service.ledger.statuses([(d.agency_id, again, again, [])])
    assert (lost[0], lost[1][0].verdict) == (head, Verdict.NOT_ISSUED)
    resync()
    assert caught_up(service) == head
    assert service.ledger.statuses([(d.agency_id, again, again, [])])[1][0].verdict is Verdict.NOT_ISSUED


def test_a_cached_answer_turns_expired_when_the_block_time_passes_its_expiry(
    chain: DevChain, tmp_path: Path
) -> None:
    d, service = world(chain, tmp_path)
    assert service.ledger is not None
    root = random_hash()
    until = d.registry.block_time() + 600
    Relayer(d.registry, d.relayer).issue(d.sign_issue(root, valid_until=until))
    caught_up(service)
    query: StatusQuery = (d.agency_id, root, root, [])
    assert service.ledger.statuses([query])[1][0].verdict is Verdict.VALID

    rpc(d, "evm_increaseTime", hex(900))
    rpc(d, "evm_mine")  # no event of the agency: only the time says the answer changed
    later = caught_up(service)
    assert later.timestamp >= until
    assert service.ledger.statuses([query]) == (later, [d.registry.credential_status(*query)])
    assert service.ledger.statuses([query])[1][0].verdict is Verdict.EXPIRED


def test_the_cache_steps_aside_while_the_index_is_behind(chain: DevChain, tmp_path: Path) -> None:
    d, service = world(chain, tmp_path, ready_max_lag=2)
    assert service.ledger is not None
    root = random_hash()
    relayer = Relayer(d.registry, d.relayer)
    relayer.issue(d.sign_issue(root))
    caught_up(service)
    relayer.set_status(d.sign_status(root, root, [], StatusAction.REVOKE, 1))
    rpc(d, "anvil_mine", hex(3))  # the index has not read these blocks: three behind, more than allowed
    head = d.registry.latest_head()
    assert service.ledger.refresh() is None
    query: StatusQuery = (d.agency_id, root, root, [])
    as_of, (state,) = service.ledger.statuses([query])
    assert (as_of, state.verdict) == (head, Verdict.ROOT_REVOKED), "read from the chain at its head"


def test_the_api_names_the_block_its_answer_is_of_and_follows_a_revocation(
    chain: DevChain, tmp_path: Path
) -> None:
    d = deploy_world(chain.url)
    batch = d.batch(2)
    relayer = Relayer(d.registry, d.relayer)
    relayer.issue(d.sign_batch(batch))
    settings = service_settings(tmp_path / "service", d, outbox_worker=False)
    with live_server(create_app(settings)) as url, httpx.Client(base_url=url, timeout=30) as client:

        def verdict() -> tuple[str, int]:
            body = client.post("/v1/verify", json=batch.documents[0]).json()
            return body["code"], body["checked_block"]

        issued = d.registry.head()
        code, block = wait_for(lambda: (lambda v: v if v[1] == issued else None)(verdict()), what="the index")
        assert code == "valid"
        relayer.set_status(
            d.sign_status(batch.root, batch.leaves[0], proof_of(batch.documents[0]), StatusAction.REVOKE, 2)
        )
        revoked_at = d.registry.head()
        code, block = wait_for(lambda: (lambda v: v if v[0] != "valid" else None)(verdict()), what="revoked")
        assert (code, block) == ("revoked", revoked_at)
        other = client.post("/v1/verify", json=batch.documents[1]).json()
        assert (other["code"], other["checked_block"]) == ("valid", revoked_at)


def test_each_worker_of_credreg_serve_follows_the_index_in_the_database(
    chain: DevChain, tmp_path: Path
) -> None:
    d = deploy_world(chain.url)
    batch = d.batch(2)
    relayer = Relayer(d.registry, d.relayer)
    relayer.issue(d.sign_batch(batch))
    settings = service_settings(tmp_path / "service", d, outbox_worker=False)
    serve = ServeProcess(settings, tmp_path / "serve.log", workers=2).start()
    try:
        # A new connection each time, so that the requests spread over the worker processes.
        def answers(document: Any) -> set[tuple[str, int]]:
            reports = [
                httpx.post(serve.url + "/v1/verify", json=document, timeout=30).json() for _ in range(10)
            ]
            return {(r["code"], r["checked_block"]) for r in reports}

        def as_of() -> set[int | None]:
            return {httpx.get(serve.url + "/readyz", timeout=30).json()["answers_as_of"] for _ in range(10)}

        issued = d.registry.head()
        wait_for(lambda: as_of() == {issued}, what="the workers' ledger caches")
        assert answers(batch.documents[0]) == {("valid", issued)}
        relayer.set_status(
            d.sign_status(batch.root, batch.leaves[0], proof_of(batch.documents[0]), StatusAction.SUSPEND, 6)
        )
        suspended = d.registry.head()
        wait_for(lambda: answers(batch.documents[0]) == {("suspended", suspended)}, what="the suspension")
        assert answers(batch.documents[1]) == {("valid", suspended)}
    finally:
        serve.stop()
