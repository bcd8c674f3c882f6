"""The registries credreg is measured against, deployed from their published npm artifacts.

- OpenAttestation DocumentStore 3.0 (`@govtechsg/document-store@3.0.0`, the legacy store OpenCerts uses):
  `issue(hash)`, `bulkIssue(hashes)`, `revoke(hash)`.
- OpenAttestation DocumentStore v4 (`@trustvc/document-store@1.0.3`): `issue(root)`, `revoke(root)` and
  `revoke(root, leaf, proof)`.
- Ethereum Attestation Service 1.9 (`@ethereum-attestation-service/eas-contracts@1.9.0`): `SchemaRegistry` and
  `EAS`, with a schema carrying what a credreg root record carries (root, scope).

Nothing here is copied into the repository: ABIs and bytecode are read from node_modules at run time (the
DocumentStore packages ship them inside their JavaScript factories, so Node.js reads them out). Transactions
are signed locally with the sender's key, so this works against any JSON-RPC chain, not only anvil.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, cast

from eth_abi.abi import encode
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractConstructor, ContractFunction
from web3.types import TxParams, TxReceipt

PROJECT_ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = PROJECT_ROOT / "node_modules"

DOCUMENT_STORE_PACKAGE = "@govtechsg/document-store@3.0.0"
DOCUMENT_STORE_V4_PACKAGE = "@trustvc/document-store@1.0.3"
EAS_PACKAGE = "@ethereum-attestation-service/eas-contracts@1.9.0"

EAS_SCHEMA = "bytes32 root,bytes32 scopeId"

_READ_FACTORIES = """
const legacy = require("@govtechsg/document-store/dist/contracts/factories/contracts/DocumentStore__factory.js");
const v4 = require("@trustvc/document-store");
const pick = (f) => ({ abi: f.abi, bytecode: f.bytecode });
process.stdout.write(JSON.stringify({
  legacy: pick(legacy.DocumentStore__factory),
  v4: pick(v4.DocumentStore__factory),
}));
"""


@dataclass(frozen=True)
class PeerArtifact:
    name: str
    package: str
    abi: list[dict[str, Any]]
    bytecode: str


@cache
def peer_artifacts() -> dict[str, PeerArtifact]:
    """ABI and creation bytecode of every peer, keyed `document_store`, `document_store_v4`, `schema_registry`,
    `eas`."""
    if not NODE_MODULES.is_dir():
        raise RuntimeError(f"{NODE_MODULES} is missing: run `npm ci` (or `make setup`) first")
    done = subprocess.run(
        ["node", "-e", _READ_FACTORIES],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if done.returncode != 0:
        raise RuntimeError(f"could not read the DocumentStore factories with Node.js: {done.stderr.strip()}")
    factories = json.loads(done.stdout)
    eas_dir = NODE_MODULES / "@ethereum-attestation-service" / "eas-contracts" / "artifacts" / "contracts"

    def hardhat(path: Path, name: str) -> PeerArtifact:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("linkReferences"):
            raise RuntimeError(f"{path} needs library linking, which this script does not do")
        return PeerArtifact(name, EAS_PACKAGE, raw["abi"], raw["bytecode"])

    return {
        "document_store": PeerArtifact(
            "DocumentStore",
            DOCUMENT_STORE_PACKAGE,
            factories["legacy"]["abi"],
            factories["legacy"]["bytecode"],
        ),
        "document_store_v4": PeerArtifact(
            "DocumentStore (v4)",
            DOCUMENT_STORE_V4_PACKAGE,
            factories["v4"]["abi"],
            factories["v4"]["bytecode"],
        ),
        "schema_registry": hardhat(eas_dir / "SchemaRegistry.sol" / "SchemaRegistry.json", "SchemaRegistry"),
        "eas": hardhat(eas_dir / "EAS.sol" / "EAS.json", "EAS"),
    }


def send(w3: Web3, sender: LocalAccount, call: ContractFunction | ContractConstructor) -> TxReceipt:
    """Sign `call` (a contract function call or a deployment) with `sender`'s key, mine it, and return the
    receipt; raise if it reverted."""
    params: TxParams = {"from": sender.address, "nonce": w3.eth.get_transaction_count(sender.address)}
    tx = call.build_transaction(params)
    signed = sender.sign_transaction(cast(dict[str, Any], tx))
    receipt = w3.eth.wait_for_transaction_receipt(
        w3.eth.send_raw_transaction(signed.raw_transaction), timeout=60
    )
    if receipt["status"] != 1:
        raise RuntimeError(f"transaction {receipt['transactionHash'].to_0x_hex()} reverted")
    return receipt


def deploy(w3: Web3, sender: LocalAccount, abi: list[dict[str, Any]], bytecode: str, *args: Any) -> Contract:
    factory = w3.eth.contract(abi=abi, bytecode=bytecode)
    receipt = send(w3, sender, factory.constructor(*args))
    return cast(Contract, w3.eth.contract(address=receipt["contractAddress"], abi=abi))


def deploy_document_store(w3: Web3, owner: LocalAccount) -> Contract:
    """OpenAttestation's legacy DocumentStore, owned (and issued to) by `owner`."""
    artifact = peer_artifacts()["document_store"]
    return deploy(w3, owner, artifact.abi, artifact.bytecode, "credreg benchmark store", owner.address)


def deploy_document_store_v4(w3: Web3, admin: LocalAccount) -> Contract:
    """OpenAttestation's DocumentStore v4, with `admin` holding every role."""
    artifact = peer_artifacts()["document_store_v4"]
    return deploy(w3, admin, artifact.abi, artifact.bytecode, "credreg benchmark store v4", admin.address)


@dataclass(frozen=True)
class Eas:
    registry: Contract
    eas: Contract
    schema: bytes


def deploy_eas(w3: Web3, deployer: LocalAccount, schema: str = EAS_SCHEMA) -> Eas:
    """A SchemaRegistry, an EAS bound to it, and a revocable schema registered without a resolver."""
    artifacts = peer_artifacts()
    registry = deploy(w3, deployer, artifacts["schema_registry"].abi, artifacts["schema_registry"].bytecode)
    eas = deploy(w3, deployer, artifacts["eas"].abi, artifacts["eas"].bytecode, registry.address)
    zero = "0x" + "00" * 20
    send(w3, deployer, registry.functions.register(schema, zero, True))
    uid = Web3.solidity_keccak(["string", "address", "bool"], [schema, zero, True])
    return Eas(registry=registry, eas=eas, schema=bytes(uid))


def eas_request(recipient: str, root: bytes, scope_id: bytes) -> tuple[Any, ...]:
    """An `AttestationRequestData` recording a credential root under a scope, revocable, without expiry."""
    return (recipient, 0, True, bytes(32), encode(["bytes32", "bytes32"], [root, scope_id]), 0)


def attested_uid(eas: Eas, receipt: TxReceipt) -> bytes:
    (event,) = eas.eas.events.Attested().process_receipt(receipt)
    return bytes(event["args"]["uid"])
