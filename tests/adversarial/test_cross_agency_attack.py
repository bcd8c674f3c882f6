"""The attack of issue 10, and its leaf variant, as plain regression tests on a real anvil.

Agency B puts agency A's root R_A (or A's leaf L) with a random Y into a tree of its own, records that tree's
root B3, and revokes or suspends R_A (or L) with the proof [Y] against B3, in B's namespace. A's certificates
must stay valid in `credentialStatus` and in A's OpenAttestation store, and A and the governor keep full
control of them. Also: B cannot sign in A's namespace at all, and B recording A's root first does not stop A.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from adversarial_world import Tree, World, hx
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from web3 import Web3

from credreg.chain.artifacts import load_artifact
from credreg.chain.eip712 import StatusAction
from credreg.chain.states import Verdict
from credreg.errors import ContractRevert
from credreg.registry import Governor, Registry, Relayer

REVOKE, SUSPEND, REINSTATE = StatusAction.REVOKE, StatusAction.SUSPEND, StatusAction.REINSTATE


class Ledger:
    """The world's registry as agencies A (1) and B (2) and the governor use it."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.registry: Registry = world.registry()
        self.relayer = Relayer(self.registry, world.relayer)
        self.governor = Governor(self.registry, world.governor)
        self.a, self.b = world.agencies[0], world.agencies[1]
        abi = load_artifact("AgencyDocumentStore").abi
        self.stores = {
            agency.agency_id: world.w3.eth.contract(
                address=Web3.to_checksum_address(self.registry.document_store(agency.agency_id)), abi=abi
            )
            for agency in world.agencies
        }

    def issue(self, signer: LocalAccount, tree: Tree) -> None:
        request = self.registry.issue_request(hx(tree.root), self.world.scope_id, 0)
        self.relayer.issue(self.registry.sign_issue(signer, request))

    def agency_sets(
        self,
        signer: LocalAccount,
        agency_id: int,
        root: bytes,
        target: bytes,
        proof: Sequence[bytes],
        action: int,
    ) -> None:
        signed = self.registry.sign_status_change(
            signer, agency_id, hx(root), hx(target), [hx(p) for p in proof], StatusAction(action), 5
        )
        self.relayer.set_status(signed)

    def verdict(self, agency_id: int, root: bytes, leaf: bytes, proof: Sequence[bytes]) -> Verdict:
        return self.registry.credential_status(agency_id, hx(root), hx(leaf), [hx(p) for p in proof]).verdict

    def store_is_revoked(self, agency_id: int, value: bytes) -> bool:
        return bool(self.stores[agency_id].functions.isRevoked(value).call())

    def store_is_issued(self, agency_id: int, root: bytes) -> bool:
        return bool(self.stores[agency_id].functions.isIssued(root).call())

    def assert_all_valid(self, tree: Tree) -> None:
        """Every certificate of A's tree is valid under A, in credentialStatus and in A's store."""
        a = self.a.agency_id
        for leaf in tree.leaves:
            assert self.verdict(a, tree.root, leaf, tree.proofs[leaf]) == Verdict.VALID
            assert self.store_is_revoked(a, leaf) is False
            assert self.registry.is_revoked(a, hx(leaf)) is False
        assert self.store_is_issued(a, tree.root) is True
        assert self.store_is_revoked(a, tree.root) is False
        assert self.registry.is_revoked(a, hx(tree.root)) is False


def _batch(label: str, size: int = 4) -> Tree:
    return Tree([keccak(text=f"{label} document {i}") for i in range(size)])


@pytest.fixture
def ledger(world: World) -> Ledger:
    return Ledger(world)


@pytest.fixture
def tree_a(ledger: Ledger) -> Tree:
    """Agency A's batch of four certificates, recorded by A."""
    tree = _batch("agency A")
    ledger.issue(ledger.a.signers[0], tree)
    return tree


def _wrap(ledger: Ledger, embedded: bytes) -> Tree:
    """B's tree of `embedded` and a random Y, recorded by B: B3."""
    b3 = Tree([embedded, keccak(text="random Y")])
    ledger.issue(ledger.b.signers[0], b3)
    return b3


@pytest.mark.parametrize("action", [REVOKE, SUSPEND], ids=["revoke", "suspend"])
def test_another_agency_revoking_an_embedded_root_leaves_the_issuers_certificates_valid(
    ledger: Ledger, tree_a: Tree, action: int
) -> None:
    b3 = _wrap(ledger, tree_a.root)
    # B's own namespace: allowed, and it lands there.
    ledger.agency_sets(
        ledger.b.signers[0], ledger.b.agency_id, b3.root, tree_a.root, b3.proofs[tree_a.root], action
    )
    assert ledger.store_is_revoked(ledger.b.agency_id, tree_a.root) is True
    assert ledger.verdict(ledger.b.agency_id, b3.root, tree_a.root, b3.proofs[tree_a.root]) == (
        Verdict.LEAF_REVOKED if action == REVOKE else Verdict.LEAF_SUSPENDED
    )
    # A's certificates: untouched.
    ledger.assert_all_valid(tree_a)


@pytest.mark.parametrize("actor", ["issuer", "governor"])
def test_the_issuer_and_the_governor_keep_control_of_a_root_another_agency_revoked_in_its_tree(
    ledger: Ledger, tree_a: Tree, actor: str
) -> None:
    b3 = _wrap(ledger, tree_a.root)
    ledger.agency_sets(
        ledger.b.signers[0], ledger.b.agency_id, b3.root, tree_a.root, b3.proofs[tree_a.root], REVOKE
    )
    a, root, leaf = ledger.a.agency_id, tree_a.root, tree_a.leaves[0]

    def change(action: int) -> None:
        if actor == "issuer":
            ledger.agency_sets(ledger.a.signers[0], a, root, root, [], action)
        else:
            ledger.governor.set_status(a, hx(root), hx(root), [], StatusAction(action), 5)

    change(SUSPEND)
    assert ledger.verdict(a, root, leaf, tree_a.proofs[leaf]) == Verdict.ROOT_SUSPENDED
    assert ledger.store_is_revoked(a, root) is True
    change(REINSTATE)
    ledger.assert_all_valid(tree_a)
    change(REVOKE)
    assert ledger.verdict(a, root, leaf, tree_a.proofs[leaf]) == Verdict.ROOT_REVOKED
    assert ledger.store_is_revoked(a, root) is True


@pytest.mark.parametrize("action", [SUSPEND, REVOKE], ids=["suspend", "revoke"])
def test_another_agency_suspending_an_embedded_leaf_leaves_that_certificate_valid(
    ledger: Ledger, tree_a: Tree, action: int
) -> None:
    a, leaf = ledger.a.agency_id, tree_a.leaves[1]
    b3 = _wrap(ledger, leaf)
    ledger.agency_sets(ledger.b.signers[0], ledger.b.agency_id, b3.root, leaf, b3.proofs[leaf], action)
    assert ledger.store_is_revoked(ledger.b.agency_id, leaf) is True
    ledger.assert_all_valid(tree_a)

    # A, then the governor, can still suspend, reinstate and revoke the leaf.
    proof = tree_a.proofs[leaf]
    ledger.agency_sets(ledger.a.signers[0], a, tree_a.root, leaf, proof, SUSPEND)
    assert ledger.verdict(a, tree_a.root, leaf, proof) == Verdict.LEAF_SUSPENDED
    ledger.agency_sets(ledger.a.signers[0], a, tree_a.root, leaf, proof, REINSTATE)
    assert ledger.verdict(a, tree_a.root, leaf, proof) == Verdict.VALID
    ledger.governor.set_status(a, hx(tree_a.root), hx(leaf), [hx(p) for p in proof], SUSPEND, 5)
    ledger.governor.set_status(a, hx(tree_a.root), hx(leaf), [hx(p) for p in proof], REINSTATE, 5)
    ledger.agency_sets(ledger.a.signers[0], a, tree_a.root, leaf, proof, REVOKE)
    assert ledger.verdict(a, tree_a.root, leaf, proof) == Verdict.LEAF_REVOKED
    assert ledger.store_is_revoked(a, leaf) is True
    others = [x for x in tree_a.leaves if x != leaf]
    assert all(ledger.verdict(a, tree_a.root, x, tree_a.proofs[x]) == Verdict.VALID for x in others)


@pytest.mark.parametrize("target", ["root", "leaf"])
def test_another_agency_cannot_sign_a_status_change_in_the_issuers_namespace(
    ledger: Ledger, tree_a: Tree, target: str
) -> None:
    value = tree_a.root if target == "root" else tree_a.leaves[0]
    proof = [] if target == "root" else tree_a.proofs[value]
    with pytest.raises(ContractRevert) as refused:
        ledger.agency_sets(ledger.b.signers[0], ledger.a.agency_id, tree_a.root, value, proof, REVOKE)
    assert refused.value.name == "CredentialRegistryUnknownSigner"
    ledger.assert_all_valid(tree_a)


def test_an_agency_records_its_root_after_another_agency_recorded_the_same_hash(ledger: Ledger) -> None:
    tree = _batch("agency A, squatted")
    ledger.issue(ledger.b.signers[0], tree)  # B squats A's root, taken from a pending request
    assert ledger.store_is_issued(ledger.a.agency_id, tree.root) is False
    ledger.issue(ledger.a.signers[0], tree)
    ledger.assert_all_valid(tree)
    ledger.agency_sets(ledger.b.signers[0], ledger.b.agency_id, tree.root, tree.root, [], REVOKE)
    ledger.assert_all_valid(tree)
    assert ledger.verdict(ledger.b.agency_id, tree.root, tree.leaves[0], tree.proofs[tree.leaves[0]]) == (
        Verdict.ROOT_REVOKED
    )
