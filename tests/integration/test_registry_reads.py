"""The registry's raw JSON-RPC reads decode exactly what web3.py and eth_abi would, in batches too."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx
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
    head, states = deployed.registry.statuses(queries)
    assert head == deployed.registry.latest_head()
    assert states == one_by_one
    assert states == deployed.registry._statuses_pinned(queries, head.number), "one call a query"
    assert deployed.registry.reader_refusal is None
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
    monkeypatch.setattr(registry_module, "READER_ANSWERS", 2)
    queries = _queries(issued, deployed.agency_id) * 3
    _head, states = deployed.registry.statuses(queries)
    assert [s.record.root for s in states] == [q[1] for q in queries]
    assert [s.verdict for s in states] == [deployed.registry.credential_status(*q).verdict for q in queries]


def test_facts_read_what_the_single_calls_read(deployed: Deployed, issued: Issued) -> None:
    reg = deployed.registry
    head = reg.latest_head()
    facts = reg.facts_at(
        head,
        agencies=[deployed.agency_id, 99],
        scopes=[deployed.scope_id, deployed.other_scope_id],
        signers=[deployed.signer.address, deployed.admin.address],
        accreditations=[
            (deployed.agency_id, deployed.scope_id),
            (deployed.agency_id, deployed.other_scope_id),
        ],
    )
    assert facts.block_time == head.timestamp
    assert facts.agencies == {a: reg.agency(a) for a in (deployed.agency_id, 99)}
    assert facts.scopes == {s: reg.scope(s) for s in (deployed.scope_id, deployed.other_scope_id)}
    assert facts.signers == {s: reg.signer(s) for s in (deployed.signer.address, deployed.admin.address)}
    assert facts.accreditations == {
        (deployed.agency_id, s): reg.accreditation(deployed.agency_id, s)
        for s in (deployed.scope_id, deployed.other_scope_id)
    }
    assert facts.signers[deployed.signer.address].agency_id == deployed.agency_id
    assert facts.agencies[99].name == ""


def test_facts_are_read_at_the_head_and_remembered_for_that_block_only(
    chain: DevChain, anvil_accounts: list[LocalAccount]
) -> None:
    d = deploy_world(chain.url)  # its own world: the agency is suspended below
    reg = d.registry
    root = random_hash()
    Relayer(reg, d.relayer).issue(d.sign_issue(root))
    head, (state,) = reg.statuses([(d.agency_id, root, root, [])])
    assert head == reg.latest_head()
    assert state == reg.credential_status(d.agency_id, root, root, [])
    before = reg.facts_at(head, agencies=[d.agency_id], scopes=[d.scope_id])
    assert before.agencies[d.agency_id].state is AgencyState.ACTIVE

    Governor(reg, d.governor).suspend_agency(d.agency_id, 7)

    later, (again,) = reg.statuses([(d.agency_id, root, root, [])])
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


def _rpc(url: str, method: str, *params: object) -> object:
    reply = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).json()
    assert "error" not in reply, reply
    return reply["result"]


def test_reads_pinned_to_a_block_answer_for_it_and_refuse_it_once_replaced(
    chain: DevChain, anvil_accounts: list[LocalAccount]
) -> None:
    d = deploy_world(chain.url)
    reg, relayer = d.registry, Relayer(d.registry, d.relayer)
    fork = _rpc(chain.url, "evm_snapshot")
    root = random_hash()
    relayer.issue(d.sign_issue(root))
    query = (d.agency_id, root, root, [])
    issued, (valid,) = reg.statuses([query])
    relayer.set_status(d.sign_status(root, root, [], StatusAction.REVOKE, 4))
    later, (revoked,) = reg.statuses([query])
    assert (valid.verdict, revoked.verdict) == (Verdict.VALID, Verdict.ROOT_REVOKED)
    assert later.number > issued.number
    assert reg.statuses([query], at=issued) == (issued, [valid]), "the earlier block's answer"

    # The chain goes back to before the issuance and grows other blocks at the same heights.
    assert _rpc(chain.url, "evm_revert", fork) is True
    _rpc(chain.url, "anvil_mine", hex(later.number - issued.number + 2))
    assert reg.latest_head().number >= later.number
    with pytest.raises(ChainError, match="reorganised"):
        reg.statuses([query], at=issued)
    with pytest.raises(ChainError, match="reorganised"):
        reg.facts_at(issued, agencies=[d.agency_id])
    head, (gone,) = reg.statuses([query])
    assert (head, gone.verdict) == (reg.latest_head(), Verdict.NOT_ISSUED)
    assert reg.reader_refusal is None, "read through the status reader"


_PROBE = """
import contextlib, io, json, sys
from credreg.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    code = main(["verify", "one.json"])
print(json.dumps({"code": code, "out": out.getvalue(), "modules": sorted(sys.modules)}))
"""


def test_verify_reads_the_ledger_without_web3(deployed: Deployed, issued: Issued, tmp_path: Path) -> None:
    """`credreg verify one.json`, its ledger read included, loads no web3.py or eth-account (writes need
    them; a verifier's start-up cannot afford them)."""
    from credreg.documents.wrap import dump_document

    deployed.manifest.save(tmp_path / "deployment.json")
    (tmp_path / "one.json").write_text(dump_document(issued.batch.documents[0]), encoding="utf-8")
    # (an HTTP proxy in the environment sends reads through web3.py, which honours it)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDREG_") and "proxy" not in k.lower()}
    env |= {"CREDREG_DATA_DIR": str(tmp_path), "CREDREG_RPC_URL": deployed.url, "COLUMNS": "100"}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout.splitlines()[-1])
    assert answer["code"] == 0, answer["out"]
    assert "VALID" in answer["out"]
    loaded = sorted({m.split(".")[0] for m in answer["modules"]} & {"web3", "eth_account", "requests"})
    assert loaded == []


def test_the_plain_transport_and_web3_give_the_same_reports(deployed: Deployed, issued: Issued) -> None:
    from credreg.chain.client import connect
    from credreg.chain.rpc import HttpRpc
    from credreg.verify import verify_documents

    documents = [*issued.batch.documents, {"not": "a document"}]
    plain = Registry(HttpRpc(deployed.url), deployed.manifest)
    through_web3 = Registry(connect(deployed.url), deployed.manifest)
    assert isinstance(through_web3.rpc, registry_module.ProviderRpc)
    mine = [r.model_dump(exclude={"checked_at", "checked_block"}) for r in verify_documents(plain, documents)]
    theirs = [
        r.model_dump(exclude={"checked_at", "checked_block"})
        for r in verify_documents(through_web3, documents)
    ]
    assert mine == theirs
    assert [r["code"] for r in mine] == ["valid", "revoked", "valid", "malformed"]
    plain.rpc.close()


def test_one_node_is_read_plainly_unless_a_proxy_is_named(
    deployed: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    from credreg.chain.rpc import HttpRpc

    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    plain = Registry.connect(deployed.url, deployed.manifest, check=False)
    assert isinstance(plain.rpc, HttpRpc)
    plain.rpc.close()
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    proxied = Registry.connect(deployed.url, deployed.manifest, check=False)
    assert isinstance(proxied.rpc, registry_module.ProviderRpc)
