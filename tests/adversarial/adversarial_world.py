"""Three accredited agencies and a governor on a real anvil, and the reads the adversarial suite compares.

Accounts are the well-known anvil test keys: the governor is test account 0, the agencies' admins 1-3, their
signer keys 4-5 (agency 1), 6-7 (agency 2) and 8 (agency 3), and test account 9 relays signed requests.
Signer keys only sign; each funded account sends through one sender, so nonces never collide.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from support.registry import (
    ANVIL_ACCOUNTS,
    AgencySpec,
    ChainControls,
    Ledger,
    LedgerSpec,
    ScopeSpec,
    deploy_ledger,
)
from web3 import Web3

from credreg.chain.artifacts import load_artifact
from credreg.chain.codec import ContractCodec
from credreg.chain.manifest import Manifest
from credreg.documents.merkle import MerkleTree, combine
from credreg.registry import Registry

OCCUPATION, LEVEL, TITLE = "6-31-01-01", 3, "Electrician, level 3"
AGENCY_LAYOUT = (
    ("Agency A", "ADV-A", 1, (4, 5)),
    ("Agency B", "ADV-B", 2, (6, 7)),
    ("Agency C", "ADV-C", 3, (8,)),
)


def hx(value: bytes) -> str:
    return "0x" + value.hex()


@dataclass(frozen=True)
class AgencyKeys:
    agency_id: int
    name: str
    admin: LocalAccount
    signers: tuple[LocalAccount, ...]
    store: str


class Tree:
    """A merkle tree with every node's proof up to the root and the leaves below every node."""

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self.merkle = MerkleTree(leaves)
        self.root = self.merkle.root
        self.leaves = tuple(self.merkle.leaves)
        self.proofs = {leaf: [bytes(p) for p in self.merkle.proof(leaf)] for leaf in self.leaves}
        # node -> its proof up to the root; node -> (leaf, proof from the leaf up to the node) for leaves below
        self.above: dict[bytes, list[bytes]] = {}
        self.below: dict[bytes, list[tuple[bytes, list[bytes]]]] = {}
        for leaf, proof in self.proofs.items():
            node = leaf
            for i in range(len(proof) + 1):
                self.above.setdefault(node, proof[i:])
                self.below.setdefault(node, []).append((leaf, proof[:i]))
                if i < len(proof):
                    node = combine(node, proof[i])
        assert self.above[self.root] == []

    def __repr__(self) -> str:
        return f"Tree(root={hx(self.root)}, leaves={len(self.leaves)})"

    def nodes(self) -> list[bytes]:
        """Leaves, intermediate nodes and the root."""
        return list(self.above)


@dataclass
class World(ChainControls):
    """The deployed registry as it stands after set-up, and a way back to that state."""

    ledger: Ledger
    scope_id: str
    relayer: LocalAccount
    agencies: tuple[AgencyKeys, ...]
    snapshot_id: str = ""

    @property
    def w3(self) -> Web3:
        return self.ledger.w3

    @property
    def manifest(self) -> Manifest:
        return self.ledger.manifest

    @property
    def governor(self) -> LocalAccount:
        return self.ledger.governor

    def save(self) -> None:
        self.snapshot_id = self.snapshot()

    def restore(self) -> None:
        """Back to the state right after set-up."""
        self.revert(self.snapshot_id)
        self.save()

    def registry(self) -> Registry:
        """A new connection: the transaction senders' nonce counters must not outlive a revert."""
        return Registry(self.w3, self.manifest)

    def block_time(self, block_number: int) -> int:
        return int(self.w3.eth.get_block(block_number)["timestamp"])


ADVERSARIAL = LedgerSpec(
    scopes=(ScopeSpec(OCCUPATION, LEVEL, TITLE),),
    agencies=tuple(
        AgencySpec(name, code, admin=admin, signers=signers) for name, code, admin, signers in AGENCY_LAYOUT
    ),
)


def build_world(url: str) -> World:
    """Deploy, define one scope, register and accredit the three agencies and add their signer keys."""
    ledger = deploy_ledger(url, ADVERSARIAL)
    agencies = tuple(
        AgencyKeys(a.agency_id, a.name, a.admin, a.signers, ledger.registry.document_store(a.agency_id))
        for a in ledger.agencies
    )
    world = World(ledger, ledger.scope_ids[0], ANVIL_ACCOUNTS[9], agencies)
    world.save()
    return world


class ViewReader:
    """The registry's and the agencies' stores' views for many hashes at one block, in one JSON-RPC batch."""

    def __init__(self, registry: Registry, stores: dict[int, str]) -> None:
        self.registry = registry
        self.stores = {agency_id: Web3.to_checksum_address(a) for agency_id, a in stores.items()}
        self.store_codec = ContractCodec(load_artifact("AgencyDocumentStore").abi)

    def flags(
        self, pairs: Sequence[tuple[int, bytes]], block: int
    ) -> list[tuple[bool, bool, bool, bool, tuple[Any, ...]]]:
        """Per (agency, hash): registry isIssued and isRevoked, the agency's store isIssued and isRevoked, and
        the registry's raw statusOf."""
        tag = hex(block)
        calls: list[tuple[str, list[Any]]] = []
        reg = self.registry
        for agency_id, value in pairs:
            h = hx(value)
            calls.append(
                (
                    "eth_call",
                    [{"to": reg.address, "data": reg.codec.call_data("isIssued", agency_id, h)}, tag],
                )
            )
            calls.append(
                (
                    "eth_call",
                    [{"to": reg.address, "data": reg.codec.call_data("isRevoked", agency_id, h)}, tag],
                )
            )
            store = self.stores[agency_id]
            calls.append(
                ("eth_call", [{"to": store, "data": self.store_codec.call_data("isIssued", h)}, tag])
            )
            calls.append(
                ("eth_call", [{"to": store, "data": self.store_codec.call_data("isRevoked", h)}, tag])
            )
            calls.append(
                (
                    "eth_call",
                    [{"to": reg.address, "data": reg.codec.call_data("statusOf", agency_id, h)}, tag],
                )
            )
        replies: list[Any] = []
        provider: Any = reg.w3.provider
        for start in range(0, len(calls), 1000):
            chunk = provider.make_batch_request(calls[start : start + 1000])
            assert isinstance(chunk, list), chunk
            assert len(chunk) == len(calls[start : start + 1000])
            replies += chunk
        for reply in replies:
            assert "result" in reply, reply
        out = []
        for i in range(len(pairs)):
            r = replies[5 * i : 5 * i + 5]
            status = tuple(reg.codec.decode_result("statusOf", r[4]["result"]))
            out.append(
                (
                    bool(reg.codec.decode_result("isIssued", r[0]["result"])),
                    bool(reg.codec.decode_result("isRevoked", r[1]["result"])),
                    bool(self.store_codec.decode_result("isIssued", r[2]["result"])),
                    bool(self.store_codec.decode_result("isRevoked", r[3]["result"])),
                    status,
                )
            )
        return out
