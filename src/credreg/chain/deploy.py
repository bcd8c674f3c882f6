"""Deploying the credential registry and recording where it went."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from eth_account.signers.local import LocalAccount
from web3 import Web3

from credreg import __version__
from credreg.chain.artifacts import load_artifact
from credreg.chain.client import chain_id
from credreg.chain.manifest import DeployedContract, Manifest
from credreg.chain.provenance import compare_runtime
from credreg.chain.transactions import TxSender
from credreg.errors import TransactionFailed, WrongChain

REGISTRY_CONTRACT = "CredentialRegistry"


def deploy_registry(
    w3: Web3, deployer: LocalAccount, governor: str | None = None, confirmations: int = 0
) -> Manifest:
    """Deploy a new CredentialRegistry governed by `governor` (default: the deployer)."""
    chain = chain_id(w3)  # first, so that an endpoint that is not a node is named as such
    artifact = load_artifact(REGISTRY_CONTRACT)
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    governor = Web3.to_checksum_address(governor or deployer.address)
    sender = TxSender(w3, deployer, abi=artifact.abi, confirmations=confirmations)
    # Only the creation data is taken from web3 here: given every field, it asks the chain nothing (left to
    # itself it reads `baseFeePerGas`, which pre-London chains lack). Fees, nonce and gas are the sender's.
    placeholders = {"from": deployer.address, "gas": 0, "gasPrice": 0, "nonce": 0, "chainId": chain}
    built = factory.constructor(governor).build_transaction(placeholders)
    receipt = sender.send({"data": built["data"]})
    address = receipt.get("contractAddress")
    if not address:
        raise TransactionFailed("the deployment transaction created no contract")
    provenance = compare_runtime(bytes(w3.eth.get_code(address)), artifact)
    if not provenance.ok:
        raise WrongChain(
            f"the code deployed at {address} is not the compiled CredentialRegistry: {provenance.detail}"
        )
    version = w3.eth.contract(address=address, abi=artifact.abi).functions.VERSION().call()
    return Manifest(
        chain_id=chain,
        registry=DeployedContract(
            address=address,
            deployment_block=int(receipt["blockNumber"]),
            transaction_hash=receipt["transactionHash"].to_0x_hex(),
            bytecode_hash=artifact.bytecode_hash,
            deployed_bytecode_hash=artifact.deployed_bytecode_hash,
        ),
        governor=governor,
        contract_version=str(version),
        compiler_version=artifact.compiler_version,
        evm_version=str(artifact.settings.get("evmVersion")),
        optimizer_runs=int(artifact.settings.get("optimizer", {}).get("runs", 0)),
        credreg_version=__version__,
        deployed_at=datetime.now(UTC),
    )


def deploy_and_save(w3: Web3, deployer: LocalAccount, path: Path, governor: str | None = None) -> Manifest:
    manifest = deploy_registry(w3, deployer, governor)
    manifest.save(path)
    return manifest
