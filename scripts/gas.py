"""Gas of credreg's operations beside OpenAttestation's DocumentStore and EAS, measured on one chain.

    python scripts/gas.py        (or: make gas)

Starts its own anvil on a free loopback port, deploys credreg and the peers (from their npm artifacts, see
scripts/peers.py), mines real transactions and prints the gas each used, as `gasUsed` of its receipt: the
whole transaction, base fee of 21,000 and calldata included. Exits with status 1 if credreg misses one of its
targets: at most 5% above contract version 1's figures (issue 59,733; revoking one leaf of a 10,000-document
batch 73,330), and runtime bytecode under EIP-170's limit with room to spare.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peers import (
    Eas,
    attested_uid,
    deploy,
    deploy_document_store,
    deploy_document_store_v4,
    deploy_eas,
    eas_request,
    send,
)

from credreg.chain.artifacts import load_artifact
from credreg.chain.devchain import ephemeral_chain
from credreg.chain.devkeys import ANVIL_TEST_KEYS
from credreg.chain.eip712 import (
    CompactSignature,
    Domain,
    IssueRequest,
    StatusAction,
    StatusChangeRequest,
    sign,
)
from credreg.documents.merkle import MerkleTree

# Version 1 of the contract used 59,733 and 73,330; version 2 (records per agency, expiring issue signatures)
# may cost at most 5% more.
ISSUE_TARGET = 62_719
LEAF_REVOKE_TARGET = 76_996
BATCH = 10_000
BULK = 100
EIP170_LIMIT = 24_576
AGENCY_ID = 1


def document_hash(label: str) -> bytes:
    return keccak(text=f"credreg gas benchmark document {label}")


def hex32(value: bytes) -> str:
    return "0x" + value.hex()


@dataclass
class Row:
    operation: str
    credreg: int | None
    document_store: int | None = None
    document_store_v4: int | None = None
    eas: int | None = None


class Credreg:
    """credreg deployed with one scope and one accredited agency whose signer key signs everything."""

    def __init__(self, w3: Web3, governor: LocalAccount, admin: LocalAccount, signer: LocalAccount) -> None:
        self.w3, self.governor, self.admin, self.signer = w3, governor, admin, signer
        artifact = load_artifact("CredentialRegistry")
        self.contract: Contract = deploy(w3, governor, artifact.abi, artifact.bytecode, governor.address)
        self.runtime_size = len(w3.eth.get_code(self.contract.address))
        self.domain = Domain(chain_id=w3.eth.chain_id, registry=self.contract.address)
        fn = self.contract.functions
        send(w3, governor, fn.defineScope("6-31-01-01", 3, "Electrician, level 3"))
        self.scope_id = bytes(fn.scopeIdOf("6-31-01-01", 3).call())
        send(w3, governor, fn.registerAgency("Benchmark evaluation agency", "BENCH-1", admin.address))
        send(w3, governor, fn.accredit(AGENCY_ID, self.scope_id, 0, 0))
        send(w3, admin, fn.addSigner(AGENCY_ID, signer.address, 0, 0))

    def issue(self, relayer: LocalAccount, root: bytes, valid_until: int = 0) -> int:
        deadline = int(self.w3.eth.get_block("latest")["timestamp"]) + 3600
        request = IssueRequest(
            root=hex32(root), scope_id=hex32(self.scope_id), valid_until=valid_until, deadline=deadline
        )
        sig = sign(self.signer, self.domain, request)
        call = self.contract.functions.issue(
            root, self.scope_id, valid_until, deadline, _b(sig.r), _b(sig.vs)
        )
        return int(send(self.w3, relayer, call)["gasUsed"])

    def revoke(self, relayer: LocalAccount, root: bytes, target: bytes, proof: list[bytes]) -> int:
        fn = self.contract.functions
        nonce = int(fn.statusOf(AGENCY_ID, target).call()[2])
        deadline = int(self.w3.eth.get_block("latest")["timestamp"]) + 3600
        request = StatusChangeRequest(
            agency_id=AGENCY_ID,
            root=hex32(root),
            target=hex32(target),
            action=StatusAction.REVOKE,
            reason=1,
            nonce=nonce,
            deadline=deadline,
        )
        sig: CompactSignature = sign(self.signer, self.domain, request)
        call = fn.setStatus(AGENCY_ID, root, target, proof, 1, 1, deadline, _b(sig.r), _b(sig.vs))
        return int(send(self.w3, relayer, call)["gasUsed"])

    def governor_revoke(self, root: bytes, target: bytes, proof: list[bytes]) -> int:
        call = self.contract.functions.governorSetStatus(AGENCY_ID, root, target, proof, 1, 1)
        return int(send(self.w3, self.governor, call)["gasUsed"])


def _b(hex_text: str) -> bytes:
    return bytes.fromhex(hex_text[2:])


def measure() -> tuple[list[Row], int]:
    accounts = [Account.from_key(key) for key in ANVIL_TEST_KEYS]
    governor, admin, signer, relayer, issuer = accounts[:5]
    with ephemeral_chain() as chain:
        w3 = Web3(Web3.HTTPProvider(chain.url, request_kwargs={"timeout": 60}))
        credreg = Credreg(w3, governor, admin, signer)
        store = deploy_document_store(w3, issuer)
        store_v4 = deploy_document_store_v4(w3, issuer)
        eas = deploy_eas(w3, issuer)

        batch = MerkleTree(document_hash(f"batch {i}") for i in range(BATCH))
        leaf, other_leaf = batch.leaves[BATCH // 3], batch.leaves[2 * BATCH // 3]
        proof, other_proof = batch.proof(leaf), batch.proof(other_leaf)
        if len(proof) != 14 or len(other_proof) != 14:
            raise RuntimeError(f"expected proofs of depth 14 for {BATCH} leaves, got {len(proof)}")
        single = document_hash("single")
        bulk = [document_hash(f"bulk {i}") for i in range(BULK)]

        rows = [
            Row(
                "issue one document",
                credreg.issue(relayer, single),
                _gas(w3, issuer, store.functions.issue(single)),
                _gas(w3, issuer, store_v4.functions.issue(single)),
                _gas(
                    w3,
                    issuer,
                    eas.eas.functions.attest(
                        (eas.schema, eas_request(issuer.address, single, credreg.scope_id))
                    ),
                ),
            ),
            Row(
                f"issue a batch of {BATCH:,} (its root)",
                credreg.issue(relayer, batch.root),
                _gas(w3, issuer, store.functions.issue(batch.root)),
                _gas(w3, issuer, store_v4.functions.issue(batch.root)),
            ),
            Row(
                "issue with an expiry",
                credreg.issue(relayer, document_hash("expiring"), valid_until=2**39),
            ),
            Row(
                f"issue {BULK} separate hashes, per hash",
                None,
                _gas(w3, issuer, store.functions.bulkIssue(bulk)) // BULK,
                None,
                _gas(
                    w3,
                    issuer,
                    eas.eas.functions.multiAttest(
                        [(eas.schema, [eas_request(issuer.address, h, credreg.scope_id) for h in bulk])]
                    ),
                )
                // BULK,
            ),
            Row(
                "revoke one leaf of the batch (depth 14)",
                credreg.revoke(relayer, batch.root, leaf, proof),
                _gas(w3, issuer, store.functions.revoke(leaf)),
                _gas(w3, issuer, store_v4.functions.revoke(batch.root, leaf, proof)),
            ),
            Row(
                "revoke one leaf, by the governor",
                credreg.governor_revoke(batch.root, other_leaf, other_proof),
            ),
            Row(
                "revoke a single document",
                credreg.revoke(relayer, single, single, []),
                _gas(w3, issuer, store.functions.revoke(single)),
                _gas(w3, issuer, store_v4.functions.revoke(single)),
                _eas_revoke(w3, issuer, eas, credreg.scope_id),
            ),
        ]
        return rows, credreg.runtime_size


def _gas(w3: Web3, sender: LocalAccount, call: ContractFunction) -> int:
    return int(send(w3, sender, call)["gasUsed"])


def _eas_revoke(w3: Web3, issuer: LocalAccount, eas: Eas, scope_id: bytes) -> int:
    root = document_hash("eas revoke")
    receipt = send(
        w3, issuer, eas.eas.functions.attest((eas.schema, eas_request(issuer.address, root, scope_id)))
    )
    uid = attested_uid(eas, receipt)
    return _gas(w3, issuer, eas.eas.functions.revoke((eas.schema, (uid, 0))))


def _cell(value: int | None, reference: int | None) -> str:
    if value is None:
        return "—"
    if reference is None:
        return f"{value:,}"
    return f"{value:,} ({value / reference:.2f}×)"


def render(rows: list[Row], runtime_size: int) -> str:
    headers = ("operation", "credreg", "OA DocumentStore 3.0", "OA DocumentStore v4", "EAS 1.9")
    table = [headers] + [
        (
            row.operation,
            _cell(row.credreg, None),
            _cell(row.document_store, row.credreg),
            _cell(row.document_store_v4, row.credreg),
            _cell(row.eas, row.credreg),
        )
        for row in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(headers))]
    lines = [
        "Gas per transaction (receipt gasUsed, 21,000 base and calldata included); in brackets, the peer's gas",
        "as a multiple of credreg's for the same operation. — : the operation does not exist there.",
        "",
    ]
    for i, line in enumerate(table):
        lines.append(
            "  ".join(
                cell.ljust(widths[j]) if j == 0 else cell.rjust(widths[j]) for j, cell in enumerate(line)
            )
        )
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines += [
        "",
        "credreg alone also checks, in every issue: the EIP-712 signature, the signer key's window and compromise,",
        "the agency's state and its accreditation for the scope; and records agency, scope, signer and expiry.",
        f"credreg runtime bytecode: {runtime_size:,} bytes (EIP-170 limit {EIP170_LIMIT:,}).",
    ]
    return "\n".join(lines)


def main() -> int:
    rows, runtime_size = measure()
    print(render(rows, runtime_size))
    issue = max(r.credreg for r in rows if r.operation.startswith("issue") and r.credreg is not None)
    leaf_revoke = next(r.credreg for r in rows if r.operation.startswith("revoke one leaf of the batch"))
    failures = []
    if issue > ISSUE_TARGET:
        failures.append(f"issue used {issue:,} gas, over the {ISSUE_TARGET:,} target")
    if leaf_revoke is None or leaf_revoke > LEAF_REVOKE_TARGET:
        failures.append(f"revoking a leaf used {leaf_revoke} gas, over the {LEAF_REVOKE_TARGET:,} target")
    if runtime_size > EIP170_LIMIT:
        failures.append(f"runtime bytecode of {runtime_size:,} bytes exceeds EIP-170")
    for failure in failures:
        print(f"TARGET MISSED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
