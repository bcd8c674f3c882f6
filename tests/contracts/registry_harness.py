"""Driving a deployed CredentialRegistry on a real anvil with the well-known anvil test keys.

Transactions are mined for real (never only estimated) with an explicit gas limit, so a failing one lands on
chain with status 0 and its custom error is read back from the chain's trace; time edges are hit exactly with
`evm_setNextBlockTimestamp` / `evm_mine`. Signatures are made with eth-account's own EIP-712 encoder, not
credreg's, so the contract is checked against an independent implementation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from eth_abi.abi import decode, encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from support.registry import ANVIL_ACCOUNTS, ELECTRICIAN, ChainControls, Ledger
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD
from web3.types import TxReceipt

from credreg.chain.artifacts import load_artifact
from credreg.chain.deploy import deploy_registry

ANVIL_TEST_ACCOUNTS = ANVIL_ACCOUNTS

SCOPE_CODE, SCOPE_LEVEL, SCOPE_TITLE = ELECTRICIAN.occupation_code, ELECTRICIAN.level, ELECTRICIAN.title
TX_GAS = 3_000_000

REVOKE, SUSPEND, REINSTATE = 1, 2, 3

# secp256k1 group order, for building the malleable twin of a signature.
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

ISSUE_TYPES = {
    "Issue": [
        {"name": "root", "type": "bytes32"},
        {"name": "scope", "type": "bytes32"},
        {"name": "validUntil", "type": "uint40"},
        {"name": "deadline", "type": "uint64"},
    ]
}
STATUS_CHANGE_TYPES = {
    "StatusChange": [
        {"name": "agencyId", "type": "uint32"},
        {"name": "root", "type": "bytes32"},
        {"name": "target", "type": "bytes32"},
        {"name": "action", "type": "uint8"},
        {"name": "reason", "type": "uint16"},
        {"name": "nonce", "type": "uint32"},
        {"name": "deadline", "type": "uint64"},
    ]
}


# The module written against ape's fixtures, which only `ape test` provides; plain pytest leaves it out.
APE_ONLY_MODULE = "test_ape_workbench.py"

# Every custom error name `Harness.reverted` decoded in this test session, and the contract tests deselected in
# it, for test_error_coverage.py.
RAISED_ERRORS: set[str] = set()
DESELECTED = pytest.StashKey[list[pytest.Item]]()


class Reverted(Exception):
    """A mined transaction failed with the named custom error."""

    def __init__(self, name: str, args: tuple[Any, ...]) -> None:
        super().__init__(f"{name}{args}")
        self.name = name
        self.args_ = args


def h(label: str | int) -> bytes:
    """A distinct 32-byte hash for a label: stands for a document's target hash in tests."""
    return keccak(text=f"credreg test document {label}")


def compact(signed: Any) -> tuple[bytes, bytes]:
    """EIP-2098 (r, vs) from an eth-account signature."""
    vs = signed.s | ((signed.v - 27) << 255)
    return signed.r.to_bytes(32, "big"), vs.to_bytes(32, "big")


def scope_id_of(code: str, level: int) -> bytes:
    return keccak(encode(["string", "uint8"], [code, level]))


@dataclass
class Harness(ChainControls):
    """The registry under test, its chain and the people acting on it."""

    w3: Web3
    contract: Contract
    scope_id: bytes
    agency_id: int
    governor: LocalAccount = ANVIL_TEST_ACCOUNTS[0]
    admin: LocalAccount = ANVIL_TEST_ACCOUNTS[1]
    signer: LocalAccount = ANVIL_TEST_ACCOUNTS[2]
    stranger: LocalAccount = ANVIL_TEST_ACCOUNTS[3]
    relayer: LocalAccount = ANVIL_TEST_ACCOUNTS[4]
    other_admin: LocalAccount = ANVIL_TEST_ACCOUNTS[5]
    other_signer: LocalAccount = ANVIL_TEST_ACCOUNTS[6]
    spare: LocalAccount = ANVIL_TEST_ACCOUNTS[7]
    spare_signer: LocalAccount = ANVIL_TEST_ACCOUNTS[8]
    _errors: dict[bytes, tuple[str, list[str]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for entry in self.contract.abi:
            if entry["type"] == "error":
                types = [p["type"] for p in entry["inputs"]]
                selector = keccak(text=f"{entry['name']}({','.join(types)})")[:4]
                self._errors[selector] = (entry["name"], types)

    @property
    def address(self) -> str:
        return str(self.contract.address)

    # Transactions and calls --------------------------------------------------------------------------------

    def send(self, function: str, *args: Any, sender: LocalAccount, at: int | None = None) -> TxReceipt:
        """Mine `function(*args)` from `sender` (at block time `at` if given); raise `Reverted` on failure."""
        if at is not None:
            self.rpc("evm_setNextBlockTimestamp", [at])
        tx = getattr(self.contract.functions, function)(*args).build_transaction(
            {"from": sender.address, "gas": TX_GAS}
        )
        receipt = self.w3.eth.wait_for_transaction_receipt(self.w3.eth.send_transaction(tx), timeout=30)
        if at is not None:
            assert self.w3.eth.get_block(receipt["blockNumber"])["timestamp"] == at
        if receipt["status"] != 1:
            raise self.reverted(receipt["transactionHash"].to_0x_hex())
        return receipt

    def call(self, function: str, *args: Any) -> Any:
        return getattr(self.contract.functions, function)(*args).call()

    def reverted(self, tx_hash: str) -> Reverted:
        """The custom error a failed, mined transaction reverted with, read from the chain's trace.

        Each name decoded is noted in RAISED_ERRORS, so test_error_coverage.py can tell which errors no test reached.
        """
        trace = self.rpc("debug_traceTransaction", [tx_hash, {"tracer": "callTracer"}])
        data = bytes.fromhex(trace.get("output", "0x")[2:])
        known = self._errors.get(data[:4])
        if known is None:
            return Reverted("Unknown", (data.hex(),))
        name, types = known
        RAISED_ERRORS.add(name)
        values = decode(types, data[4:])
        return Reverted(
            name,
            tuple(
                Web3.to_checksum_address(v) if t == "address" else v
                for t, v in zip(types, values, strict=True)
            ),
        )

    def events(self, receipt: TxReceipt, name: str) -> list[dict[str, Any]]:
        event = getattr(self.contract.events, name)()
        return [dict(e["args"]) for e in event.process_receipt(receipt, errors=DISCARD)]

    # Signatures --------------------------------------------------------------------------------------------

    def domain(self, chain_id: int | None = None, contract: str | None = None) -> dict[str, Any]:
        return {
            "name": "credreg",
            "version": "2",
            "chainId": self.w3.eth.chain_id if chain_id is None else chain_id,
            "verifyingContract": contract or self.address,
        }

    def sign_issue(
        self,
        key: LocalAccount,
        root: bytes,
        scope_id: bytes | None = None,
        valid_until: int = 0,
        deadline: int = 2**40,
        **domain: Any,
    ) -> tuple[bytes, bytes]:
        message = {
            "root": root,
            "scope": scope_id or self.scope_id,
            "validUntil": valid_until,
            "deadline": deadline,
        }
        return compact(Account.sign_typed_data(key.key, self.domain(**domain), ISSUE_TYPES, message))

    def sign_status(
        self,
        key: LocalAccount,
        root: bytes,
        target: bytes,
        action: int,
        reason: int,
        deadline: int,
        nonce: int | None = None,
        agency: int | None = None,
        **domain: Any,
    ) -> tuple[bytes, bytes]:
        agency = self.agency_id if agency is None else agency
        message = {
            "agencyId": agency,
            "root": root,
            "target": target,
            "action": action,
            "reason": reason,
            "nonce": self.nonce(target, agency) if nonce is None else nonce,
            "deadline": deadline,
        }
        return compact(Account.sign_typed_data(key.key, self.domain(**domain), STATUS_CHANGE_TYPES, message))

    # What people do ----------------------------------------------------------------------------------------

    def issue(
        self,
        root: bytes,
        *,
        key: LocalAccount | None = None,
        scope_id: bytes | None = None,
        valid_until: int = 0,
        deadline: int | None = None,
        at: int | None = None,
    ) -> TxReceipt:
        scope = scope_id or self.scope_id
        deadline = deadline if deadline is not None else (at or self.now()) + 3600
        r, vs = self.sign_issue(key or self.signer, root, scope, valid_until, deadline)
        return self.send("issue", root, scope, valid_until, deadline, r, vs, sender=self.relayer, at=at)

    def set_status(
        self,
        root: bytes,
        target: bytes,
        proof: Sequence[bytes],
        action: int,
        reason: int = 1,
        *,
        key: LocalAccount | None = None,
        deadline: int | None = None,
        at: int | None = None,
        agency: int | None = None,
    ) -> TxReceipt:
        """A status change in `agency`'s namespace (default: the main agency's), signed by `key`."""
        agency = self.agency_id if agency is None else agency
        deadline = deadline if deadline is not None else (at or self.now()) + 3600
        r, vs = self.sign_status(key or self.signer, root, target, action, reason, deadline, agency=agency)
        return self.send(
            "setStatus",
            agency,
            root,
            target,
            list(proof),
            action,
            reason,
            deadline,
            r,
            vs,
            sender=self.relayer,
            at=at,
        )

    def governor_status(
        self,
        root: bytes,
        target: bytes,
        proof: Sequence[bytes],
        action: int,
        reason: int = 1,
        agency: int | None = None,
    ) -> TxReceipt:
        agency = self.agency_id if agency is None else agency
        return self.send(
            "governorSetStatus", agency, root, target, list(proof), action, reason, sender=self.governor
        )

    def nonce(self, target: bytes, agency: int | None = None) -> int:
        return int(self.call("statusOf", self.agency_id if agency is None else agency, target)[2])

    def status_of(self, target: bytes, agency: int | None = None) -> tuple[Any, ...]:
        return tuple(self.call("statusOf", self.agency_id if agency is None else agency, target))

    def record(self, root: bytes, agency: int | None = None) -> tuple[Any, ...]:
        return tuple(self.call("record", self.agency_id if agency is None else agency, root))

    def verdict(
        self, root: bytes, leaf: bytes | None = None, proof: Sequence[bytes] = (), agency: int | None = None
    ) -> int:
        return int(self.state(root, leaf, proof, agency)[0])

    def state(
        self, root: bytes, leaf: bytes | None = None, proof: Sequence[bytes] = (), agency: int | None = None
    ) -> tuple[Any, ...]:
        agency = self.agency_id if agency is None else agency
        leaf = leaf if leaf is not None else root
        return tuple(self.call("credentialStatus", agency, root, leaf, list(proof)))

    def store(self, agency: int | None = None) -> Contract:
        """The agency's own OpenAttestation document store."""
        address = self.call("agency", self.agency_id if agency is None else agency)[6]
        return self.store_at(address)

    def store_at(self, address: str) -> Contract:
        return self.w3.eth.contract(address=address, abi=load_artifact("AgencyDocumentStore").abi)

    def is_issued(self, root: bytes, agency: int | None = None) -> bool:
        """OpenAttestation's `isIssued` on the agency's store, checked against the registry's own view."""
        agency = self.agency_id if agency is None else agency
        answer = bool(self.store(agency).functions.isIssued(root).call())
        assert self.call("isIssued", agency, root) is answer
        return answer

    def is_revoked(self, hash_: bytes, agency: int | None = None) -> bool:
        """OpenAttestation's `isRevoked` on the agency's store, checked against the registry's own view."""
        agency = self.agency_id if agency is None else agency
        answer = bool(self.store(agency).functions.isRevoked(hash_).call())
        assert self.call("isRevoked", agency, hash_) is answer
        return answer

    def add_agency(self, name: str, code: str, admin: LocalAccount, signer: LocalAccount | None) -> int:
        receipt = self.send("registerAgency", name, code, admin.address, sender=self.governor)
        agency_id = int(self.events(receipt, "AgencyRegistered")[0]["agencyId"])
        self.send("accredit", agency_id, self.scope_id, 0, 0, sender=self.governor)
        if signer is not None:
            self.send("addSigner", agency_id, signer.address, 0, 0, sender=admin)
        return agency_id


def registry_contract(w3: Web3, address: str) -> Contract:
    return w3.eth.contract(
        address=Web3.to_checksum_address(address), abi=load_artifact("CredentialRegistry").abi
    )


def deploy(w3: Web3, governor: str) -> Contract:
    """Another, empty registry on the same chain, deployed the way `credreg deploy` deploys one."""
    return registry_contract(w3, deploy_registry(w3, ANVIL_TEST_ACCOUNTS[0], governor).registry.address)


def harness_for(ledger: Ledger) -> Harness:
    """The contract tests' view of a registry set up by tests/support/registry.py with one scope and one
    agency (admin test account 1, signer key 2)."""
    (agency,) = ledger.agencies
    assert [agency.admin.address, *(s.address for s in agency.signers)] == [
        Harness.admin.address,
        Harness.signer.address,
    ]
    return Harness(
        w3=ledger.w3,
        contract=registry_contract(ledger.w3, ledger.address),
        scope_id=bytes(HexBytes(ledger.scope_ids[0])),
        agency_id=agency.agency_id,
    )
