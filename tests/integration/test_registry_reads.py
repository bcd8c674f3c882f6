"""The registry's raw JSON-RPC reads decode exactly what web3.py and eth_abi would, in batches too."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from chain_world import Batch, Deployed, deploy_world, random_hash
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

from credreg.chain.devchain import DevChain
from credreg.chain.eip712 import StatusAction
from credreg.errors import ChainError, ContractRevert
from credreg.registry import AgencyState, Governor, Registry, Relayer, Verdict
from credreg.registry import reads as registry_module


@dataclass
class Issued:
    single: str
    batch: Batch
    unknown: str


@pytest.fixture(scope="module")
def issued(deployed: Deployed) -> Issued:
    """One single credential, one batch of 3 with a revoked leaf, and a root nobody issued."""
    relayer = Relayer(deployed.registry, deployed.relayer)
    single = random_hash()
    relayer.issue(deployed.sign_issue(single))
    batch = deployed.batch(3)
    relayer.issue(deployed.sign_batch(batch))
    proof = ["0x" + p for p in batch.documents[1]["signature"]["proof"]]
    relayer.set_status(deployed.sign_status(batch.root, batch.leaves[1], proof, StatusAction.REVOKE, 4))
    return Issued(single, batch, random_hash())


def _queries(issued: Issued, agency: int) -> list[tuple[int, str, str, list[str]]]:
    batch = issued.batch
    queries: list[tuple[int, str, str, list[str]]] = [
        (agency, issued.single, issued.single, []),
        (agency, issued.unknown, issued.unknown, []),
    ]
    for document, leaf in zip(batch.documents, batch.leaves, strict=True):
        queries.append((agency, batch.root, leaf, ["0x" + p for p in document["signature"]["proof"]]))
    queries.append((agency, batch.root, batch.leaves[0], [random_hash()]))
    return queries


def test_batched_statuses_equal_one_call_each(deployed: Deployed, issued: Issued) -> None:
    queries = _queries(issued, deployed.agency_id)
    one_by_one = [deployed.registry.credential_status(*q) for q in queries]
    assert deployed.registry.credential_statuses(queries) == one_by_one
    verdicts = [state.verdict for state in one_by_one]
    assert verdicts == [
        Verdict.VALID,
        Verdict.NOT_ISSUED,
        Verdict.VALID,
        Verdict.LEAF_REVOKED,
        Verdict.VALID,
        Verdict.INVALID_PROOF,
    ]


def test_statuses_keep_their_order_across_many_batches(
    deployed: Deployed, issued: Issued, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry_module, "STATUS_BATCH", 2)
    queries = _queries(issued, deployed.agency_id) * 3
    states = deployed.registry.credential_statuses(queries)
    assert [s.record.root for s in states] == [q[1] for q in queries]
    assert [s.verdict for s in states] == [deployed.registry.credential_status(*q).verdict for q in queries]


def test_a_snapshot_reads_what_the_single_calls_read(deployed: Deployed, issued: Issued) -> None:
    reg = deployed.registry
    before = reg.block_time()
    snapshot = reg.snapshot(
        agencies=[deployed.agency_id, 99],
        scopes=[deployed.scope_id, deployed.other_scope_id],
        signers=[deployed.signer.address, deployed.admin.address],
        accreditations=[
            (deployed.agency_id, deployed.scope_id),
            (deployed.agency_id, deployed.other_scope_id),
        ],
    )
    assert snapshot.block_time >= before
    assert snapshot.agencies == {a: reg.agency(a) for a in (deployed.agency_id, 99)}
    assert snapshot.scopes == {s: reg.scope(s) for s in (deployed.scope_id, deployed.other_scope_id)}
    assert snapshot.signers == {s: reg.signer(s) for s in (deployed.signer.address, deployed.admin.address)}
    assert snapshot.accreditations == {
        (deployed.agency_id, s): reg.accreditation(deployed.agency_id, s)
        for s in (deployed.scope_id, deployed.other_scope_id)
    }
    assert snapshot.signers[deployed.signer.address].agency_id == deployed.agency_id
    assert snapshot.agencies[99].name == ""


def test_facts_are_read_at_the_head_and_remembered_for_that_block_only(
    chain: DevChain, anvil_accounts: list[LocalAccount]
) -> None:
    d = deploy_world(chain.url, anvil_accounts)  # its own world: the agency is suspended below
    reg = d.registry
    root = random_hash()
    Relayer(reg, d.relayer).issue(d.sign_issue(root))
    head, (state,) = reg.statuses_at_head([(d.agency_id, root, root, [])])
    assert head == reg.latest_head()
    assert state == reg.credential_status(d.agency_id, root, root, [])
    before = reg.facts_at(head, agencies=[d.agency_id], scopes=[d.scope_id])
    assert before == reg.snapshot(agencies=[d.agency_id], scopes=[d.scope_id], block=head.number)
    assert before.agencies[d.agency_id].state is AgencyState.ACTIVE

    Governor(reg, d.governor).suspend_agency(d.agency_id, 7)

    later, (again,) = reg.statuses_at_head([(d.agency_id, root, root, [])])
    assert later.number > head.number
    assert again == reg.credential_status(d.agency_id, root, root, [])
    after = reg.facts_at(later, agencies=[d.agency_id])
    assert after.agencies[d.agency_id].state is AgencyState.SUSPENDED
    assert after.block_time == later.timestamp
    assert reg.facts_at(head, agencies=[d.agency_id]) == before, "the earlier block's facts stay its own"


def test_addresses_come_back_in_eip55_form(deployed: Deployed, issued: Issued) -> None:
    reg = deployed.registry
    assert reg.governor() == deployed.governor.address
    assert reg.signer_at(1) == deployed.signer.address
    assert reg.record(deployed.agency_id, issued.single).signer == deployed.signer.address


def test_a_revert_in_a_reply_becomes_the_contracts_named_error(deployed: Deployed) -> None:
    root = random_hash()
    selector = keccak(text="CredentialRegistryNotIssued(uint32,bytes32)")[:4].hex()
    data = "0x" + selector + f"{7:064x}" + root[2:]
    revert = deployed.registry._call_error(
        "record", {"code": 3, "message": "execution reverted", "data": data}
    )
    assert isinstance(revert, ContractRevert)
    assert (revert.name, revert.args_by_name["agencyId"], revert.args_by_name["root"]) == (
        "CredentialRegistryNotIssued",
        7,
        bytes.fromhex(root[2:]),
    )


def test_an_error_that_is_no_revert_stays_a_chain_error(deployed: Deployed) -> None:
    refusal = deployed.registry._call_error("record", {"code": -32005, "message": "limit exceeded"})
    assert not isinstance(refusal, ContractRevert)
    assert "limit exceeded" in str(refusal)


def test_reading_where_no_registry_is_deployed_says_so(deployed: Deployed) -> None:
    elsewhere = deployed.manifest.model_copy(
        update={"registry": deployed.manifest.registry.model_copy(update={"address": "0x" + "11" * 20})}
    )
    stray = Registry(deployed.registry.w3, elsewhere)
    with pytest.raises(ChainError, match="is the contract deployed there"):
        stray.version()


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ("0x" + "00" * 287, "287 bytes"),
        ("0x" + "00" * 31 + "0c" + "00" * 256, "unknown verdict 12"),
        ("0x" + "00" * 192 + "01" + "00" * 95, "not an address"),
    ],
)
def test_a_malformed_status_reply_is_refused(deployed: Deployed, reply: str, message: str) -> None:
    query = (deployed.agency_id, "0x" + "22" * 32, "0x" + "22" * 32, [])
    with pytest.raises(ChainError, match=message):
        deployed.registry._statuses([query], [{"jsonrpc": "2.0", "id": 1, "result": reply}])
