"""Each agency's records and statuses are its own: nothing another agency records or signs changes them.

The attacks of a hostile accredited agency B on agency A: embedding A's root or leaf in a tree of its own and
revoking or suspending it there, signing a status change for A's namespace, and recording A's root first.
"""

from __future__ import annotations

import pytest
from registry_harness import REINSTATE, REVOKE, SUSPEND, Harness, Reverted, h

from credreg.chain.states import Status, Verdict
from credreg.documents.merkle import MerkleTree

UNTOUCHED = (Status.NONE, 0, 0, 0, False)


@pytest.fixture
def agency_b(reg: Harness) -> int:
    """A second accredited agency, B, with its own signer key (`reg.other_signer`)."""
    return reg.add_agency("Agency B", "REG-B", reg.other_admin, reg.other_signer)


@pytest.fixture
def batch(reg: Harness) -> MerkleTree:
    """Agency A's batch of four documents, issued."""
    tree = MerkleTree([h(f"a's document {i}") for i in range(4)])
    reg.issue(tree.root)
    return tree


def _embed(reg: Harness, agency_b: int, hash_: bytes) -> MerkleTree:
    """B's tree of `hash_` and a random Y, issued by B (the contract accepts it: B is accredited, B3 is new)."""
    tree = MerkleTree([hash_, h("random y")])
    reg.issue(tree.root, key=reg.other_signer)
    assert reg.record(tree.root, agency=agency_b)[:3] == (agency_b, reg.scope_id, reg.other_signer.address)
    return tree


@pytest.mark.parametrize("action", [REVOKE, SUSPEND], ids=["revoke", "suspend"])
def test_another_agency_embedding_a_root_cannot_change_its_verdict(
    reg: Harness, agency_b: int, batch: MerkleTree, action: int
) -> None:
    root_a = batch.root
    b3 = _embed(reg, agency_b, root_a)
    reg.set_status(b3.root, root_a, b3.proof(root_a), action, key=reg.other_signer, agency=agency_b)

    # The change landed, in B's namespace only.
    assert reg.status_of(root_a, agency=agency_b)[0] == (
        Status.REVOKED if action == REVOKE else Status.SUSPENDED
    )
    assert reg.is_revoked(root_a, agency=agency_b) is True
    # A's credentials: every verifier still says valid.
    assert reg.verdict(root_a) == Verdict.VALID
    for leaf in batch.leaves:
        assert reg.verdict(root_a, leaf, batch.proof(leaf)) == Verdict.VALID
    assert reg.is_revoked(root_a) is False
    assert reg.is_issued(root_a) is True
    assert reg.status_of(root_a) == UNTOUCHED


@pytest.mark.parametrize("action", [REVOKE, SUSPEND], ids=["revoke", "suspend"])
def test_the_issuing_agency_keeps_full_control_of_a_root_another_agency_embedded(
    reg: Harness, agency_b: int, batch: MerkleTree, action: int
) -> None:
    root_a = batch.root
    b3 = _embed(reg, agency_b, root_a)
    reg.set_status(b3.root, root_a, b3.proof(root_a), action, key=reg.other_signer, agency=agency_b)

    reg.set_status(root_a, root_a, [], SUSPEND, 11)
    assert reg.verdict(root_a) == Verdict.ROOT_SUSPENDED
    assert reg.is_revoked(root_a) is True
    reg.set_status(root_a, root_a, [], REINSTATE, 12)
    assert reg.verdict(root_a) == Verdict.VALID
    assert reg.is_revoked(root_a) is False
    reg.set_status(root_a, root_a, [], REVOKE, 13)
    assert reg.state(root_a)[:3] == (Verdict.ROOT_REVOKED, root_a, 13)
    assert reg.is_revoked(root_a) is True


@pytest.mark.parametrize("action", [REVOKE, SUSPEND], ids=["revoke", "suspend"])
def test_the_governor_keeps_full_control_of_a_root_another_agency_embedded(
    reg: Harness, agency_b: int, batch: MerkleTree, action: int
) -> None:
    root_a = batch.root
    b3 = _embed(reg, agency_b, root_a)
    reg.set_status(b3.root, root_a, b3.proof(root_a), action, key=reg.other_signer, agency=agency_b)

    reg.governor_status(root_a, root_a, [], SUSPEND, 21)
    assert reg.verdict(root_a) == Verdict.ROOT_SUSPENDED
    reg.governor_status(root_a, root_a, [], REINSTATE, 22)
    assert reg.verdict(root_a) == Verdict.VALID
    reg.governor_status(root_a, root_a, [], REVOKE, 23)
    assert reg.state(root_a)[:3] == (Verdict.ROOT_REVOKED, root_a, 23)
    assert reg.status_of(root_a)[4] is True
    assert reg.is_revoked(root_a) is True


@pytest.mark.parametrize("action", [REVOKE, SUSPEND], ids=["revoke", "suspend"])
def test_another_agency_embedding_a_leaf_cannot_change_its_verdict(
    reg: Harness, agency_b: int, batch: MerkleTree, action: int
) -> None:
    leaf = batch.leaves[1]
    tree_b = _embed(reg, agency_b, leaf)
    reg.set_status(tree_b.root, leaf, tree_b.proof(leaf), action, key=reg.other_signer, agency=agency_b)

    assert reg.is_revoked(leaf, agency=agency_b) is True
    assert reg.verdict(batch.root, leaf, batch.proof(leaf)) == Verdict.VALID
    assert reg.is_revoked(leaf) is False
    assert reg.status_of(leaf) == UNTOUCHED


def test_the_issuing_agency_keeps_full_control_of_a_leaf_another_agency_embedded(
    reg: Harness, agency_b: int, batch: MerkleTree
) -> None:
    leaf = batch.leaves[1]
    proof = batch.proof(leaf)
    tree_b = _embed(reg, agency_b, leaf)
    reg.set_status(tree_b.root, leaf, tree_b.proof(leaf), SUSPEND, key=reg.other_signer, agency=agency_b)

    reg.set_status(batch.root, leaf, proof, SUSPEND)
    assert reg.verdict(batch.root, leaf, proof) == Verdict.LEAF_SUSPENDED
    reg.set_status(batch.root, leaf, proof, REINSTATE)
    assert reg.verdict(batch.root, leaf, proof) == Verdict.VALID
    reg.governor_status(batch.root, leaf, proof, SUSPEND)
    reg.governor_status(batch.root, leaf, proof, REINSTATE)
    assert reg.verdict(batch.root, leaf, proof) == Verdict.VALID
    reg.set_status(batch.root, leaf, proof, REVOKE)
    assert reg.verdict(batch.root, leaf, proof) == Verdict.LEAF_REVOKED
    assert reg.is_revoked(leaf) is True
    assert reg.status_of(leaf, agency=agency_b)[0] == Status.SUSPENDED  # B's own entry is B's business


@pytest.mark.parametrize("action", [REVOKE, SUSPEND, REINSTATE], ids=["revoke", "suspend", "reinstate"])
def test_a_status_change_signed_by_another_agency_for_this_namespace_is_refused(
    reg: Harness, agency_b: int, batch: MerkleTree, action: int
) -> None:
    leaf = batch.leaves[0]
    if action == REINSTATE:
        reg.set_status(batch.root, leaf, batch.proof(leaf), SUSPEND)
    before = reg.status_of(leaf)
    with pytest.raises(Reverted) as err:
        reg.set_status(batch.root, leaf, batch.proof(leaf), action, key=reg.other_signer)
    assert (err.value.name, err.value.args_) == (
        "CredentialRegistryUnknownSigner",
        (reg.other_signer.address, agency_b),
    )
    assert reg.status_of(leaf) == before


# Root squatting -----------------------------------------------------------------------------------------------


def test_an_agency_records_its_own_root_after_another_agency_recorded_the_same_hash(
    reg: Harness, agency_b: int
) -> None:
    root = h("a's batch, seen in the pool")
    t = reg.now() + 10
    reg.issue(root, key=reg.other_signer, at=t)
    assert reg.is_issued(root) is False

    reg.issue(root, valid_until=t + 500, at=t + 1)

    record_a = (reg.agency_id, reg.scope_id, reg.signer.address, t + 1, t + 500)
    assert reg.record(root) == record_a
    assert reg.state(root) == (Verdict.VALID, bytes(32), 0, 0, record_a)
    assert reg.is_issued(root) is True
    assert reg.is_revoked(root) is False
    assert reg.record(root, agency=agency_b) == (agency_b, reg.scope_id, reg.other_signer.address, t, 0)
    assert reg.is_issued(root, agency=agency_b) is True


def test_an_agency_cannot_record_its_own_root_twice_after_a_squat(reg: Harness, agency_b: int) -> None:
    root = h("a's batch")
    reg.issue(root, key=reg.other_signer)
    t = reg.now() + 10
    reg.issue(root, at=t)
    with pytest.raises(Reverted) as err:
        reg.issue(root, valid_until=t + 99)
    assert (err.value.name, err.value.args_) == ("CredentialRegistryAlreadyIssued", (reg.agency_id, root, t))
    assert reg.record(root)[3:] == (t, 0)


def test_a_squatted_root_revoked_by_its_squatter_stays_valid_for_the_issuing_agency(
    reg: Harness, agency_b: int
) -> None:
    root = h("a's batch, seen in an outbox")
    reg.issue(root, key=reg.other_signer)
    reg.issue(root)
    reg.set_status(root, root, [], REVOKE, key=reg.other_signer, agency=agency_b)
    assert reg.verdict(root, agency=agency_b) == Verdict.ROOT_REVOKED
    assert reg.verdict(root) == Verdict.VALID
    assert reg.is_revoked(root) is False


def test_no_status_can_be_set_in_the_namespace_of_no_agency(reg: Harness, batch: MerkleTree) -> None:
    # Agency id 0 is no agency: a key of no agency is no signer of it either.
    with pytest.raises(Reverted) as err:
        reg.set_status(batch.root, batch.root, [], REVOKE, key=reg.stranger, agency=0)
    assert (err.value.name, err.value.args_) == ("CredentialRegistryUnknownSigner", (reg.stranger.address, 0))
    assert reg.status_of(batch.root, agency=0) == UNTOUCHED
    assert reg.status_of(batch.root) == UNTOUCHED
    assert reg.verdict(batch.root) == Verdict.VALID
