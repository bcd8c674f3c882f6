"""Status reads through the status reader (contracts/readers/StatusReader.sol, sent as creation calls, never
deployed) answer exactly what one `credentialStatus` call a query answers, for every verdict the registry gives;
a node that refuses creation calls is read one call a query instead, and is not asked again."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from rpc_proxy import RpcProxy
from support.registry import ANVIL_ACCOUNTS, AgencySpec, Ledger, LedgerSpec, ScopeSpec, deploy_ledger
from support.status_reads import assert_reader_reads_as_single_calls

from credreg.chain.devchain import DevChain
from credreg.chain.eip712 import StatusAction
from credreg.chain.rpc import HttpRpc
from credreg.documents.merkle import MerkleTree
from credreg.errors import ChainError
from credreg.registry import AgencyAdmin, Governor, Registry, Relayer, Verdict
from credreg.registry import reads as registry_module
from credreg.registry.reads import BlockHead, StatusQuery

SPEC = LedgerSpec(
    scopes=(
        ScopeSpec("6-31-01-03", 3, "Electrician, level 3"),
        ScopeSpec("4-04-05-01", 4, "Technician, level 4"),
    ),
    agencies=(
        AgencySpec("Agency A", "REG-A", admin=1, signers=(2, 5), scopes=(0, 1)),
        AgencySpec("Agency B", "REG-B", admin=3, signers=(4,)),
        AgencySpec("Agency C", "REG-C", admin=6, signers=(7,)),
    ),
    since=3600,
)
RELAYER = 8
BIG_TREE = 10_000  # leaves: proofs of 14 steps (and shorter ones where an odd node is promoted)


def h(value: bytes) -> str:
    return "0x" + value.hex()


@dataclass
class VerdictWorld:
    ledger: Ledger
    queries: list[StatusQuery]  # every verdict the registry gives, under each agency
    issued: BlockHead  # after every issuance, before any status change
    head: BlockHead  # after everything
    big: list[StatusQuery]  # the leaves of a 10,000-leaf batch, in random order
    roots: dict[str, tuple[int, str]]  # each batch's issuing agency and root, by what befell it

    @property
    def registry(self) -> Registry:
        return self.ledger.registry


def _tree(size: int) -> MerkleTree:
    return MerkleTree(os.urandom(32) for _ in range(size))


def _leaf_queries(agency_id: int, tree: MerkleTree) -> list[StatusQuery]:
    return [
        (agency_id, h(tree.root), h(leaf), [h(p) for p in tree.proof_at(i)])
        for i, leaf in enumerate(tree.leaves)
    ]


@pytest.fixture(scope="module")
def world(module_chain: DevChain) -> VerdictWorld:
    """Agency A issues batches whose leaves, nodes and roots are revoked or suspended, one that expires, one
    under a scope later retired and some signed by a key later reported compromised; agency B issues before
    and after the cut-off of its revocation; agency C is suspended."""
    ledger = deploy_ledger(module_chain.url, SPEC)
    reg = ledger.registry
    a, b, c = ledger.agencies
    relayer = Relayer(reg, ANVIL_ACCOUNTS[RELAYER])
    governor = Governor(reg, ledger.governor)
    scope, other_scope = ledger.scope_ids

    def issue(signer: Any, root: bytes, *, scope_id: str = scope, valid_until: int = 0) -> int:
        request = reg.issue_request(h(root), scope_id, valid_until)
        return reg.block_time(int(relayer.issue(reg.sign_issue(signer, request))["blockNumber"]))

    def status(signer: Any, agency_id: int, tree: MerkleTree, target: bytes, proof: list[bytes], action: StatusAction,
               reason: int) -> None:  # fmt: skip
        relayer.set_status(
            reg.sign_status_change(
                signer, agency_id, h(tree.root), h(target), [h(p) for p in proof], action, reason
            )
        )

    marked, revoked_root, suspended_root, expiring, retired = (_tree(8) for _ in range(5))
    single = os.urandom(32)
    big = _tree(BIG_TREE)
    issue(a.signers[0], marked.root)
    issue(a.signers[0], revoked_root.root)
    issue(a.signers[0], suspended_root.root)
    issue(a.signers[0], expiring.root, valid_until=reg.block_time() + 600)
    issue(a.signers[0], retired.root, scope_id=other_scope)
    issue(a.signers[0], single)
    issue(a.signers[0], big.root)
    before_compromise = _tree(4)
    compromised_at = issue(a.signers[1], before_compromise.root) + 1
    ledger.advance(10)
    after_compromise = _tree(4)
    issue(a.signers[1], after_compromise.root)
    before_cutoff = _tree(4)
    cutoff = issue(b.signers[0], before_cutoff.root) + 1
    ledger.advance(10)
    after_cutoff = _tree(4)
    issue(b.signers[0], after_cutoff.root)
    of_suspended_agency = _tree(4)
    issue(c.signers[0], of_suspended_agency.root)
    issued = reg.latest_head()

    leaves = list(marked.leaves)
    status(a.signers[0], a.agency_id, marked, leaves[1], marked.proof_at(1), StatusAction.REVOKE, 4)
    status(a.signers[0], a.agency_id, marked, leaves[2], marked.proof_at(2), StatusAction.SUSPEND, 5)
    node_45, node_67 = marked.path(leaves[4])[1], marked.path(leaves[6])[1]
    status(a.signers[0], a.agency_id, marked, node_45, marked.proof_at(4)[1:], StatusAction.REVOKE, 6)
    status(a.signers[0], a.agency_id, marked, node_67, marked.proof_at(6)[1:], StatusAction.SUSPEND, 7)
    governor.set_status(a.agency_id, h(marked.root), h(leaves[3]), [h(p) for p in marked.proof_at(3)],
                        StatusAction.SUSPEND, 8)  # fmt: skip
    status(a.signers[0], a.agency_id, revoked_root, revoked_root.root, [], StatusAction.REVOKE, 9)
    status(a.signers[0], a.agency_id, suspended_root, suspended_root.root, [], StatusAction.SUSPEND, 10)
    # expired, which outranks a suspension of one of its leaves
    status(
        a.signers[0],
        a.agency_id,
        expiring,
        expiring.leaves[0],
        expiring.proof_at(0),
        StatusAction.SUSPEND,
        11,
    )
    AgencyAdmin(reg, a.admin).report_compromised(a.signers[1].address, compromised_at)
    governor.revoke_agency(b.agency_id, cutoff, 12)
    governor.suspend_agency(c.agency_id, 13)
    governor.retire_scope(other_scope)
    ledger.advance(700)
    head = reg.latest_head()

    queries: list[StatusQuery] = []
    for agency in (a, b, c):
        for tree in (marked, revoked_root, suspended_root, expiring, retired, before_compromise, after_compromise,
                     before_cutoff, after_cutoff, of_suspended_agency):  # fmt: skip
            queries += _leaf_queries(agency.agency_id, tree)
        queries.append((agency.agency_id, h(single), h(single), []))
        queries.append(
            (agency.agency_id, h(marked.root), h(leaves[0]), [h(p) for p in revoked_root.proof_at(0)])
        )
        unknown = h(os.urandom(32))
        queries.append((agency.agency_id, unknown, unknown, []))
    big_queries = _leaf_queries(a.agency_id, big)
    random.Random(7).shuffle(big_queries)
    roots = {
        "marked": (a.agency_id, h(marked.root)),
        "revoked root": (a.agency_id, h(revoked_root.root)),
        "suspended root": (a.agency_id, h(suspended_root.root)),
        "expired": (a.agency_id, h(expiring.root)),
        "retired scope": (a.agency_id, h(retired.root)),
        "before compromise": (a.agency_id, h(before_compromise.root)),
        "after compromise": (a.agency_id, h(after_compromise.root)),
        "before cut-off": (b.agency_id, h(before_cutoff.root)),
        "after cut-off": (b.agency_id, h(after_cutoff.root)),
        "suspended agency": (c.agency_id, h(of_suspended_agency.root)),
    }
    return VerdictWorld(ledger, queries, issued, head, big_queries, roots)


def test_every_verdict_reads_the_same_through_the_reader_as_one_call_each(world: VerdictWorld) -> None:
    reg = world.registry
    for block in (world.issued, world.head):
        assert_reader_reads_as_single_calls(reg, world.queries, block.number)
        head, states = reg.statuses(world.queries, at=block)
        assert head == block
        assert reg.reader_refusal is None
        assert states == reg._statuses_pinned(world.queries, block.number)
    _, states = reg.statuses(world.queries, at=world.head)
    assert {s.verdict for s in states} == set(Verdict), "the world gives every verdict"
    found: dict[tuple[int, str], set[Verdict]] = {}
    for query, state in zip(world.queries, states, strict=True):
        found.setdefault((query[0], query[1]), set()).add(state.verdict)
    v = Verdict
    expected = {
        "marked": {
            v.VALID,
            v.INVALID_PROOF,
            v.LEAF_REVOKED,
            v.NODE_REVOKED,
            v.LEAF_SUSPENDED,
            v.NODE_SUSPENDED,
        },
        "revoked root": {v.ROOT_REVOKED},
        "suspended root": {v.ROOT_SUSPENDED},
        "expired": {v.EXPIRED},
        "retired scope": {v.VALID},
        "before compromise": {v.VALID},
        "after compromise": {v.SIGNER_COMPROMISED},
        "before cut-off": {v.VALID},
        "after cut-off": {v.AGENCY_REVOKED},
        "suspended agency": {v.VALID},
    }
    assert {name: found[world.roots[name]] for name in expected} == expected
    b = world.ledger.agencies[1]
    assert found[(b.agency_id, world.roots["marked"][1])] == {v.NOT_ISSUED}, "another agency's namespace"


def test_a_large_batch_reads_the_same_and_each_reader_call_fits_its_gas(world: VerdictWorld) -> None:
    reg, block = world.registry, world.head.number
    sample = world.big[:2_000]
    assert_reader_reads_as_single_calls(reg, sample, block)
    assert {len(q[3]) for q in world.big} >= {14}
    # The most gas a call takes: a full call of proofs of 14 steps from all over the tree (few shared nodes).
    chunk = next(iter(reg._reader_chunks(world.big)))
    assert len(chunk) > 60
    data = reg._reader_call(chunk, block)[1][0]["data"]
    assert len(data) // 2 - 1 <= registry_module.READER_CALL_BYTES
    reply = httpx.post(
        world.ledger.url,
        json={"jsonrpc": "2.0", "id": 1, "method": "eth_estimateGas", "params": [{"data": data}, hex(block)]},
    ).json()
    gas = int(reply["result"], 16)
    assert gas < 0.8 * registry_module.READER_GAS, f"{len(chunk)} queries take {gas:,} gas"


def test_queries_are_split_into_calls_the_node_accepts(world: VerdictWorld) -> None:
    reg = world.registry
    shallow = [(1, h(os.urandom(32)), h(os.urandom(32)), []) for _ in range(200)]
    deep = [
        (1, h(os.urandom(32)), h(os.urandom(32)), [h(os.urandom(32)) for _ in range(20)]) for _ in range(200)
    ]
    for queries in (shallow, deep, world.big[:500], shallow + deep):
        chunks = list(reg._reader_chunks(queries))
        assert [q for chunk in chunks for q in chunk] == queries
        for chunk in chunks:
            assert 1 <= len(chunk) <= registry_module.READER_ANSWERS
            assert len(reg._reader_call(chunk, 1)[1][0]["data"]) // 2 - 1 <= registry_module.READER_CALL_BYTES
    assert [len(c) for c in reg._reader_chunks(shallow)][:2] == [registry_module.READER_ANSWERS] * 2


def test_statuses_keep_their_order_across_many_reader_calls_and_batches(
    world: VerdictWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    reg = world.registry
    expected = reg.statuses(world.queries, at=world.head)[1]
    monkeypatch.setattr(registry_module, "READER_ANSWERS", 3)
    monkeypatch.setattr(registry_module, "STATUS_BATCH_DATA", 30_000)  # a few reader calls a JSON-RPC batch
    assert len(list(reg._reader_chunks(world.queries))) > 20
    head, states = reg.statuses(world.queries, at=world.head)
    assert (head, states) == (world.head, expected)
    assert reg.statuses([], at=world.head) == (world.head, [])


class CreationRefusingProxy(RpcProxy):
    """A node that does not serve `eth_call` without a recipient, answering `answer` instead."""

    def __init__(self, upstream: str, answer: dict[str, Any]) -> None:
        super().__init__(upstream)
        self.answer = answer

    def _refusal(self, request: Any) -> dict[str, Any] | None:
        if isinstance(request, dict) and request.get("method") == "eth_call":
            call = (request.get("params") or [{}])[0]
            if isinstance(call, dict) and not call.get("to"):
                self._count("creation-call")
                return {"jsonrpc": "2.0", "id": request.get("id"), **self.answer}
        return super()._refusal(request)


@pytest.fixture
def refusing(world: VerdictWorld, request: pytest.FixtureRequest) -> Iterator[CreationRefusingProxy]:
    with CreationRefusingProxy(world.ledger.url, request.param) as proxy:
        yield proxy


@pytest.mark.parametrize(
    "refusing",
    [
        {"error": {"code": -32000, "message": "contract creation is not supported by eth_call"}},
        {"error": {"code": -32000, "message": "out of gas"}},
        {"result": "0x"},
        {"result": "0x" + "00" * 64},
    ],
    indirect=True,
    ids=["error", "out-of-gas", "empty", "short"],
)
def test_a_node_that_refuses_creation_calls_is_read_one_call_a_query(
    world: VerdictWorld, refusing: CreationRefusingProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry_module, "READER_ANSWERS", 10)
    monkeypatch.setattr(registry_module, "STATUS_BATCH_DATA", 10_000)  # one reader call a JSON-RPC batch
    direct = world.registry
    through = Registry(HttpRpc(refusing.url), world.ledger.manifest)
    expected = direct.statuses(world.queries, at=world.head)[1]

    head, states = through.statuses(world.queries, at=world.head)

    assert (head, states) == (world.head, expected)
    assert through.reader_refusal is not None
    assert "status reader" in through.reader_refusal
    assert refusing.refused["creation-call"] == 1, "the refusal is remembered after the first reader call"
    assert through.statuses(world.queries, at=world.head) == (world.head, expected)
    assert through.statuses(world.queries)[1] == direct.statuses(world.queries)[1]
    assert refusing.refused["creation-call"] == 1
    assert direct.reader_refusal is None
    through.rpc.close()


def test_a_reader_reply_is_taken_only_with_one_answer_a_query(world: VerdictWorld) -> None:
    reg = world.registry
    four = "0x" + f"{32:064x}{4:064x}" + "00" * 288 * 4
    assert reg._reader_answers(4, {"result": four}) == ["0x" + "00" * 288] * 4
    for count, result in ((5, four), (4, four[:-2]), (4, four + "00"), (4, "0x" + f"{64:064x}" + four[66:])):
        assert isinstance(reg._reader_answers(count, {"result": result}), str), (count, len(result))
    assert isinstance(reg._reader_answers(4, {"error": {"code": 3, "message": "execution reverted"}}), str)


def test_reading_statuses_where_no_registry_is_deployed_says_so(world: VerdictWorld) -> None:
    """The reader's call fails there; the calls made again one a query say why, and the node is not taken to
    refuse the reader."""
    elsewhere = world.ledger.manifest.model_copy(
        update={"registry": world.ledger.manifest.registry.model_copy(update={"address": "0x" + "11" * 20})}
    )
    stray = Registry(HttpRpc(world.ledger.url), elsewhere)
    with pytest.raises(ChainError, match="is the contract deployed there"):
        stray.statuses(world.queries[:3], at=world.head)
    assert stray.reader_refusal is None
    stray.rpc.close()


def test_a_proof_too_long_for_any_reader_call_is_read_alone_and_does_not_turn_the_reader_off(
    world: VerdictWorld,
) -> None:
    """A hostile agency can put a chain of a thousand hashes under a root; its document's query is too big for
    a reader call (the node refuses creation code over 49,152 bytes). It is read by a call of its own, the
    queries around it still by the reader, and the node is not taken to refuse the reader."""
    reg = Registry(HttpRpc(world.ledger.url), world.ledger.manifest)
    too_long = (
        world.queries[0][0],
        h(os.urandom(32)),
        h(os.urandom(32)),
        [h(os.urandom(32)) for _ in range(1_600)],
    )
    queries = [*world.queries[:5], too_long, *world.queries[5:10]]
    parts = reg._status_parts(queries, world.head.number)
    assert [p.reader for p in parts] == [True, False, True]
    head, states = reg.statuses(queries, at=world.head)
    assert (head, states) == (world.head, reg._statuses_pinned(queries, world.head.number))
    assert states[5].verdict == Verdict.NOT_ISSUED
    assert reg.reader_refusal is None
    reg.rpc.close()
