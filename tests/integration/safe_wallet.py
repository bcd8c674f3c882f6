"""A real Safe multisig wallet on a dev chain, deployed from the compiled artifacts that npm
`@safe-global/safe-contracts@1.4.1` ships (read from node_modules at run time, never copied here):
the Safe singleton, the SafeProxyFactory, and the CompatibilityFallbackHandler a Safe is set up with.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, cast

from eth_account.signers.local import LocalAccount
from eth_typing import Hash32
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD
from web3.types import TxParams, TxReceipt

from credreg.chain.safe import ZERO_ADDRESS, SafeTx
from credreg.chain.transactions import TxSender
from credreg.paths import project_root

SAFE_PACKAGE = "@safe-global/safe-contracts"
SAFE_VERSION = "1.4.1"
_ARTIFACTS = {
    "Safe": "contracts/Safe.sol/Safe.json",
    "SafeProxyFactory": "contracts/proxies/SafeProxyFactory.sol/SafeProxyFactory.json",
    "CompatibilityFallbackHandler": (
        "contracts/handler/CompatibilityFallbackHandler.sol/CompatibilityFallbackHandler.json"
    ),
}


@cache
def safe_artifact(name: str) -> tuple[list[dict[str, Any]], str]:
    """ABI and creation bytecode of one Safe contract, from the installed npm package."""
    package = project_root() / "node_modules" / SAFE_PACKAGE
    installed = json.loads((package / "package.json").read_text(encoding="utf-8"))["version"]
    assert installed == SAFE_VERSION, f"{SAFE_PACKAGE} {installed} installed, the tests expect {SAFE_VERSION}"
    raw = json.loads((package / "build" / "artifacts" / _ARTIFACTS[name]).read_text(encoding="utf-8"))
    assert not raw["linkReferences"], f"{name} needs linking"
    return raw["abi"], raw["bytecode"]


def _deploy(sender: TxSender, name: str) -> str:
    """Deploy a Safe contract whose constructor takes no arguments."""
    _, bytecode = safe_artifact(name)
    address = sender.send(cast(TxParams, {"data": bytecode}))["contractAddress"]
    assert address, f"deploying {name} created no contract"
    return str(address)


@dataclass
class SafeDeployment:
    """A Safe proxy and its owners on a dev chain."""

    w3: Web3
    address: str
    owners: tuple[LocalAccount, ...]
    threshold: int
    contract: Contract

    def safe_tx(self, to: str, data: str) -> SafeTx:
        """A plain call from the Safe with its current nonce, and no gas refund."""
        return SafeTx(to=to, data=data, nonce=int(self.contract.functions.nonce().call()))

    def transaction_hash(self, tx: SafeTx) -> str:
        """The Safe's own `getTransactionHash` view."""
        return "0x" + bytes(self.contract.functions.getTransactionHash(*tx.args(), tx.nonce).call()).hex()

    def signatures(self, tx: SafeTx, signers: Sequence[LocalAccount]) -> bytes:
        """`signers`' signatures over the Safe's hash of `tx`, packed in ascending owner-address order as
        `execTransaction` wants them. Signed with eth-account directly, not through credreg's own code."""
        tx_hash = Hash32(bytes.fromhex(self.transaction_hash(tx)[2:]))
        ordered = sorted(signers, key=lambda a: int(a.address, 16))
        return b"".join(bytes(a.unsafe_sign_hash(tx_hash).signature) for a in ordered)

    def exec_tx(self, tx: SafeTx, signatures: bytes, submitter: TxSender) -> TxReceipt:
        data = self.contract.encode_abi("execTransaction", args=[*tx.args(), signatures])
        return submitter.send(cast(TxParams, {"to": self.address, "data": data}))

    def execute(self, to: str, data: str, signers: Sequence[LocalAccount], submitter: TxSender) -> TxReceipt:
        tx = self.safe_tx(to, data)
        return self.exec_tx(tx, self.signatures(tx, signers), submitter)


def deploy_safe(
    w3: Web3, deployer: LocalAccount, owners: Sequence[LocalAccount], threshold: int, salt_nonce: int = 0
) -> SafeDeployment:
    """Deploy the singleton, the proxy factory and the fallback handler, then a Safe proxy set up with
    `owners` and `threshold`, as the Safe{Wallet} does."""
    sender = TxSender(w3, deployer)
    singleton = _deploy(sender, "Safe")
    factory_address = _deploy(sender, "SafeProxyFactory")
    handler = _deploy(sender, "CompatibilityFallbackHandler")
    safe_abi, _ = safe_artifact("Safe")
    factory_abi, _ = safe_artifact("SafeProxyFactory")
    setup = w3.eth.contract(abi=safe_abi).encode_abi(
        "setup",
        args=[
            [o.address for o in owners],
            threshold,
            ZERO_ADDRESS,
            b"",
            handler,
            ZERO_ADDRESS,
            0,
            ZERO_ADDRESS,
        ],
    )
    factory = w3.eth.contract(address=Web3.to_checksum_address(factory_address), abi=factory_abi)
    data = factory.encode_abi("createProxyWithNonce", args=[singleton, setup, salt_nonce])
    receipt = sender.send(cast(TxParams, {"to": factory.address, "data": data}))
    (created,) = factory.events.ProxyCreation().process_receipt(receipt, errors=DISCARD)
    address = str(created["args"]["proxy"])
    contract = w3.eth.contract(address=Web3.to_checksum_address(address), abi=safe_abi)
    return SafeDeployment(w3, address, tuple(owners), threshold, contract)


__all__ = ["SafeDeployment", "deploy_safe", "safe_artifact"]
