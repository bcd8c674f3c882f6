"""Ledgers for the audit tests: a real history using every event, and contracts compiled at test time."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from support.registry import ANVIL_ACCOUNTS, AgencySpec, LedgerSpec, ScopeSpec, deploy_ledger
from web3 import Web3

from credreg import __version__
from credreg.audit.provenance import artifact_from_output, compile_cached
from credreg.audit.state import combine
from credreg.chain.artifacts import load_artifact
from credreg.chain.build import COMPILER_SETTINGS
from credreg.chain.devchain import DevChain
from credreg.chain.eip712 import StatusAction
from credreg.chain.manifest import DeployedContract, Manifest
from credreg.chain.transactions import TxSender
from credreg.registry import AgencyAdmin, Governor, Registry, Relayer

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
INTERFACES = (
    "contracts/interfaces/IAccreditationRegistry.sol",
    "contracts/interfaces/ICredentialRegistry.sol",
)
DOUBLE_SOURCE = "tests/audit/contracts/PermissiveRegistry.sol"


def rand32() -> str:
    return "0x" + os.urandom(32).hex()


@dataclass
class Batch:
    """A four-leaf merkle batch built by hand (sorted-pair keccak256, as the contract proves it)."""

    leaves: list[str]
    nodes: list[str]
    root: str

    @classmethod
    def new(cls) -> Batch:
        leaves = sorted(rand32() for _ in range(4))
        nodes = [combine(leaves[0], leaves[1]), combine(leaves[2], leaves[3])]
        return cls(leaves, nodes, combine(nodes[0], nodes[1]))

    def proof(self, leaf: str) -> list[str]:
        i = self.leaves.index(leaf)
        return [self.leaves[i ^ 1], self.nodes[1 - i // 2]]

    def node_proof(self, node: str) -> list[str]:
        return [self.nodes[1 - self.nodes.index(node)]]


@dataclass
class History:
    chain: DevChain
    registry: Registry
    accounts: list[LocalAccount]
    scopes: dict[str, str]
    roots: dict[str, str]
    batch: Batch
    blocks: dict[str, int] = field(default_factory=dict)
    times: dict[str, int] = field(default_factory=dict)

    @property
    def w3(self) -> Web3:
        return self.registry.w3


# Both agencies accredited for the first scope from 100 s before set-up; the second scope, agency A's
# second signer key and everything after are build_history's own.
HISTORY_START = LedgerSpec(
    scopes=(
        ScopeSpec("4-04-05-01", 3, "Blockchain engineering technician, level 3"),
        ScopeSpec("4-04-05-05", 2, "人工智能工程技术人员 (二级)"),
    ),
    agencies=(
        AgencySpec("Beijing Digital Skills Assessment Centre", "BJ-0001", admin=1, signers=(2,)),
        AgencySpec("=Shanghai Vocational Centre", "SH-0002", admin=4, signers=(5, 9)),
    ),
    since=100,
)


def build_history(chain: DevChain) -> History:
    """Every registry event type on one deployment, with a few of each where the order matters."""
    accounts = list(ANVIL_ACCOUNTS)
    (
        gov_key,
        admin_a,
        signer_a1,
        relayer_key,
        admin_b,
        signer_b1,
        signer_a2,
        new_gov,
        new_admin_a,
        signer_b2,
    ) = accounts
    ledger = deploy_ledger(chain.url, HISTORY_START)
    registry = ledger.registry
    gov = Governor(registry, gov_key)
    relayer = Relayer(registry, relayer_key)
    a_admin = AgencyAdmin(registry, admin_a)
    b_admin = AgencyAdmin(registry, admin_b)
    s1, s2 = ledger.scope_ids
    a, b = (agency.agency_id for agency in ledger.agencies)
    now = registry.block_time()
    # Beside the set-up every suite shares: a bounded accreditation, and a signer key the governor adds.
    gov.accredit(a, s2, now - 100, now + 1_000_000)
    gov.add_signer(a, signer_a2.address, now - 100)

    def issue(signer: LocalAccount, root: str, scope: str, valid_until: int = 0) -> int:
        receipt = relayer.issue(registry.sign_issue(signer, registry.issue_request(root, scope, valid_until)))
        return int(receipt["blockNumber"])

    def status(
        signer: LocalAccount, root: str, target: str, proof: list[str], action: StatusAction, reason: int
    ) -> int:
        agency = registry.signer(signer.address).agency_id
        signed = registry.sign_status_change(signer, agency, root, target, proof, action, reason)
        return int(relayer.set_status(signed)["blockNumber"])

    batch = Batch.new()
    roots = {"single_a": rand32(), "batch_a": batch.root, "single_b": rand32(), "compromised_b": rand32(),
             "expiring_a": rand32()}  # fmt: skip
    blocks: dict[str, int] = {}
    blocks["issue_single_a"] = issue(signer_a1, roots["single_a"], s1)
    blocks["issue_batch_a"] = issue(signer_a1, roots["batch_a"], s2, now + 500_000)
    blocks["issue_single_b"] = issue(signer_b1, roots["single_b"], s1)
    blocks["issue_compromised_b"] = issue(signer_b2, roots["compromised_b"], s1)
    blocks["issue_expiring_a"] = issue(signer_a2, roots["expiring_a"], s1, registry.block_time() + 60)
    # Agency B records the hash of A's single root in its own namespace (a squat): two independent records.
    blocks["squat_b"] = issue(signer_b1, roots["single_a"], s1)
    leaf1, leaf2 = batch.leaves[0], batch.leaves[3]
    blocks["suspend_leaf"] = status(signer_a1, batch.root, leaf1, batch.proof(leaf1), StatusAction.SUSPEND, 4)
    blocks["reinstate_leaf"] = status(
        signer_a1, batch.root, leaf1, batch.proof(leaf1), StatusAction.REINSTATE, 0
    )
    times = {"before_leaf_revoked": registry.block_time()}
    ledger.advance(60)
    blocks["revoke_leaf"] = status(signer_a1, batch.root, leaf2, batch.proof(leaf2), StatusAction.REVOKE, 7)
    node = batch.nodes[0]
    blocks["suspend_node"] = status(
        signer_a1, batch.root, node, batch.node_proof(node), StatusAction.SUSPEND, 5
    )
    blocks["gov_suspend_root"] = int(
        gov.set_status(a, roots["single_a"], roots["single_a"], [], StatusAction.SUSPEND, 9)["blockNumber"]
    )
    blocks["gov_reinstate_root"] = int(
        gov.set_status(a, roots["single_a"], roots["single_a"], [], StatusAction.REINSTATE)["blockNumber"]
    )
    # B suspends its own record of that hash: A's record of it stays valid.
    blocks["suspend_squat_b"] = status(
        signer_b1, roots["single_a"], roots["single_a"], [], StatusAction.SUSPEND, 6
    )
    blocks["revoke_single_b"] = status(
        signer_b1, roots["single_b"], roots["single_b"], [], StatusAction.REVOKE, 2
    )
    a_admin.retire_signer(signer_a2.address)
    issuer_key, lost_key = rand32(), rand32()
    a_admin.add_issuer_key(a, issuer_key, now - 100)
    gov.add_issuer_key(a, lost_key, now - 100, now + 1_000_000)
    a_admin.retire_issuer_key(issuer_key)
    a_admin.report_issuer_key_compromised(lost_key, now - 50)
    s3 = gov.define_scope("2-02-10-09", 2, "defined by mistake")
    gov.retire_scope(s3)
    compromised_at = registry.record(b, roots["compromised_b"]).issued_at
    b_admin.report_compromised(signer_b2.address, compromised_at)
    gov.withdraw_accreditation(a, s2)
    a_admin.transfer_admin(a, new_admin_a.address)
    gov.suspend_agency(b, 11)
    gov.reinstate_agency(b)
    times["before_b_revoked"] = registry.block_time()
    blocks["before_b_revoked"] = registry.head()
    ledger.advance(30)
    gov.revoke_agency(b, registry.record(b, roots["single_b"]).issued_at, 12)
    blocks["b_revoked"] = registry.head()
    gov.transfer_governor(new_gov.address)
    Governor(registry, new_gov).accept_governor()
    ledger.advance(120)  # the expiring root is now past its validUntil
    blocks["end"] = registry.head()
    return History(chain, registry, accounts, {"s1": s1, "s2": s2, "s3": s3}, roots, batch, blocks, times)


# --- contracts compiled at test time -------------------------------------------------------------------------


def compile_double() -> dict[str, Any]:
    sources = {
        path: {"content": (ROOT / path).read_text(encoding="utf-8")} for path in (*INTERFACES, DOUBLE_SOURCE)
    }
    output = compile_cached({"language": "Solidity", "sources": sources, "settings": COMPILER_SETTINGS})
    compiled: dict[str, Any] = output["contracts"][DOUBLE_SOURCE]["PermissiveRegistry"]
    return compiled


def deploy_bytecode(
    w3: Web3, account: LocalAccount, abi: list[dict[str, Any]], bytecode: str, *args: Any
) -> tuple[str, int]:
    """Deploy raw creation code; return (address, block)."""
    factory = w3.eth.contract(abi=abi, bytecode=bytecode)
    tx: Any = factory.constructor(*args).build_transaction({"from": account.address, "gas": 0})
    for key in ("gas", "maxFeePerGas", "maxPriorityFeePerGas", "gasPrice", "nonce", "chainId"):
        tx.pop(key, None)
    receipt = TxSender(w3, account, abi=abi).send(tx)
    return str(receipt["contractAddress"]), int(receipt["blockNumber"])


def manifest_for(w3: Web3, address: str, block: int, governor: str) -> Manifest:
    artifact = load_artifact("CredentialRegistry")
    return Manifest(
        chain_id=int(w3.eth.chain_id),
        registry=DeployedContract(
            address=address,
            deployment_block=block,
            transaction_hash="0x" + "00" * 32,
            bytecode_hash=artifact.bytecode_hash,
            deployed_bytecode_hash=artifact.deployed_bytecode_hash,
        ),
        governor=governor,
        contract_version="2.0.0",
        compiler_version=artifact.compiler_version,
        evm_version="london",
        optimizer_runs=10_000,
        credreg_version=__version__,
        deployed_at=datetime.now(UTC),
    )


def deploy_from_sources(w3: Web3, account: LocalAccount, sources: dict[str, Any]) -> Registry:
    """Deploy CredentialRegistry compiled from `sources` (a standard-json input) and connect to it."""
    output = compile_cached(sources)
    artifact = artifact_from_output(output, "contracts/CredentialRegistry.sol", "CredentialRegistry")
    address, block = deploy_bytecode(w3, account, artifact.abi, artifact.bytecode, account.address)
    return Registry(w3, manifest_for(w3, address, block, account.address))
