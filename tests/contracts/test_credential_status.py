"""`credentialStatus` gives every reason a credential is not valid; the agency's document store's `isIssued` and
`isRevoked` keep OpenAttestation's meaning (`Harness.is_issued`/`is_revoked` read the store and check the registry's
own views agree)."""

from __future__ import annotations

import pytest
from registry_harness import REINSTATE, REVOKE, SUSPEND, Harness, h

from credreg.chain.states import Verdict
from credreg.documents.merkle import MerkleTree


@pytest.fixture
def batch(reg: Harness) -> MerkleTree:
    tree = MerkleTree([h(f"cs {i}") for i in range(6)])
    reg.issue(tree.root)
    return tree


def test_valid_credential_reports_its_record(reg: Harness) -> None:
    t = reg.now() + 10
    reg.issue(h(1), valid_until=t + 100, at=t)
    assert reg.state(h(1)) == (
        Verdict.VALID,
        bytes(32),
        0,
        0,
        (reg.agency_id, reg.scope_id, reg.signer.address, t, t + 100),
    )


def test_not_issued(reg: Harness) -> None:
    assert reg.state(h("never")) == (
        Verdict.NOT_ISSUED,
        h("never"),
        0,
        0,
        (0, bytes(32), "0x" + "0" * 40, 0, 0),
    )
    assert reg.record(h("never")) == (0, bytes(32), "0x" + "0" * 40, 0, 0)


def test_invalid_proof_for_a_leaf_of_another_batch_or_a_wrong_sibling(
    reg: Harness, batch: MerkleTree
) -> None:
    other = MerkleTree([h(f"other {i}") for i in range(6)])
    reg.issue(other.root)
    leaf = batch.leaves[0]
    assert reg.state(other.root, leaf, batch.proof(leaf))[:2] == (Verdict.INVALID_PROOF, leaf)
    assert reg.verdict(batch.root, leaf, [h("x"), *batch.proof(leaf)[1:]]) == Verdict.INVALID_PROOF
    assert reg.verdict(batch.root, leaf, []) == Verdict.INVALID_PROOF
    assert reg.verdict(batch.root, leaf, batch.proof(leaf)) == Verdict.VALID


@pytest.mark.parametrize(
    ("level", "action", "expected"),
    [
        ("root", REVOKE, Verdict.ROOT_REVOKED),
        ("node", REVOKE, Verdict.NODE_REVOKED),
        ("leaf", REVOKE, Verdict.LEAF_REVOKED),
        ("root", SUSPEND, Verdict.ROOT_SUSPENDED),
        ("node", SUSPEND, Verdict.NODE_SUSPENDED),
        ("leaf", SUSPEND, Verdict.LEAF_SUSPENDED),
    ],
)
def test_revoked_or_suspended_at_each_level(
    reg: Harness, batch: MerkleTree, level: str, action: int, expected: int
) -> None:
    leaf = batch.leaves[2]
    proof = batch.proof(leaf)
    path = batch.path(leaf)
    target, target_proof = {"root": (batch.root, []), "node": (path[1], proof[1:]), "leaf": (leaf, proof)}[
        level
    ]
    t = reg.now() + 5
    reg.set_status(batch.root, target, target_proof, action, 33, at=t)
    assert reg.state(batch.root, leaf, proof)[:4] == (expected, target, 33, t)
    assert reg.is_revoked(target) is True
    assert reg.is_issued(batch.root) is True


def test_single_document_status_is_reported_as_the_root(reg: Harness) -> None:
    reg.issue(h(1))
    reg.set_status(h(1), h(1), [], SUSPEND)
    assert reg.verdict(h(1)) == Verdict.ROOT_SUSPENDED


def test_expired_exactly_at_valid_until(reg: Harness) -> None:
    t = reg.now() + 10
    reg.issue(h(1), valid_until=t + 100, at=t)
    reg.mine_at(t + 99)
    assert reg.verdict(h(1)) == Verdict.VALID
    reg.mine_at(t + 100)
    assert reg.state(h(1))[:4] == (Verdict.EXPIRED, h(1), 0, t + 100)
    assert reg.is_revoked(h(1)) is False  # OpenAttestation has no expiry


def test_agency_revocation_voids_credentials_issued_at_or_after_the_cutoff(reg: Harness) -> None:
    t = reg.now() + 10
    reg.issue(h("before"), at=t - 1)
    reg.issue(h("at"), at=t)
    reg.send("revokeAgency", reg.agency_id, t, 21, sender=reg.governor, at=t + 5)
    assert reg.verdict(h("before")) == Verdict.VALID
    assert reg.is_revoked(h("before")) is False
    assert reg.state(h("at"))[:4] == (Verdict.AGENCY_REVOKED, h("at"), 21, t)
    assert reg.is_revoked(h("at")) is True
    assert reg.is_issued(h("at")) is True


def test_agency_suspension_does_not_touch_issued_credentials(reg: Harness) -> None:
    reg.issue(h(1))
    reg.send("suspendAgency", reg.agency_id, 1, sender=reg.governor)
    assert reg.verdict(h(1)) == Verdict.VALID
    assert reg.is_revoked(h(1)) is False


def test_signer_compromise_voids_credentials_signed_at_or_after_its_time(reg: Harness) -> None:
    t = reg.now() + 10
    reg.issue(h("before"), at=t - 1)
    reg.issue(h("at"), at=t)
    reg.send("reportCompromised", reg.signer.address, t, sender=reg.admin, at=t + 5)
    assert reg.verdict(h("before")) == Verdict.VALID
    assert reg.state(h("at"))[:4] == (Verdict.SIGNER_COMPROMISED, h("at"), 0, t)
    assert reg.is_revoked(h("at")) is True
    assert reg.is_revoked(h("before")) is False
    reg.send("reportCompromised", reg.signer.address, t - 1, sender=reg.admin)
    assert reg.verdict(h("before")) == Verdict.SIGNER_COMPROMISED


def test_compromise_of_one_signer_leaves_another_signers_credentials_valid(reg: Harness) -> None:
    reg.send("addSigner", reg.agency_id, reg.spare_signer.address, 0, 0, sender=reg.admin)
    reg.issue(h("a"))
    reg.issue(h("b"), key=reg.spare_signer)
    reg.send("reportCompromised", reg.signer.address, 1, sender=reg.admin)
    assert reg.verdict(h("a")) == Verdict.SIGNER_COMPROMISED
    assert reg.verdict(h("b")) == Verdict.VALID


def test_revocation_outranks_everything_and_the_highest_level_is_reported(
    reg: Harness, batch: MerkleTree
) -> None:
    leaf = batch.leaves[1]
    proof = batch.proof(leaf)
    node = batch.path(leaf)[1]
    reg.set_status(batch.root, leaf, proof, REVOKE, 1)
    reg.set_status(batch.root, node, proof[1:], REVOKE, 2)
    reg.set_status(batch.root, batch.root, [], SUSPEND, 3)
    reg.send("reportCompromised", reg.signer.address, 1, sender=reg.admin)
    assert reg.state(batch.root, leaf, proof)[:3] == (Verdict.NODE_REVOKED, node, 2)


def test_agency_revocation_outranks_signer_compromise_expiry_and_suspension(reg: Harness) -> None:
    t = reg.now() + 10
    reg.issue(h(1), valid_until=t + 2, at=t)
    reg.set_status(h(1), h(1), [], SUSPEND, at=t + 1)
    reg.send("reportCompromised", reg.signer.address, t, sender=reg.admin, at=t + 2)
    reg.send("revokeAgency", reg.agency_id, t, 5, sender=reg.governor, at=t + 3)
    assert reg.verdict(h(1)) == Verdict.AGENCY_REVOKED


def test_signer_compromise_outranks_expiry_and_expiry_outranks_suspension(reg: Harness) -> None:
    t = reg.now() + 10
    reg.issue(h(1), valid_until=t + 2, at=t)
    reg.set_status(h(1), h(1), [], SUSPEND, at=t + 1)
    reg.mine_at(t + 2)
    assert reg.verdict(h(1)) == Verdict.EXPIRED
    reg.send("reportCompromised", reg.signer.address, t, sender=reg.admin, at=t + 3)
    assert reg.verdict(h(1)) == Verdict.SIGNER_COMPROMISED


def test_is_revoked_counts_suspension_and_clears_on_reinstatement(reg: Harness, batch: MerkleTree) -> None:
    node = batch.path(batch.leaves[0])[1]
    assert reg.is_revoked(node) is False
    reg.governor_status(batch.root, node, batch.proof(batch.leaves[0])[1:], SUSPEND)
    assert reg.is_revoked(node) is True
    reg.governor_status(batch.root, node, batch.proof(batch.leaves[0])[1:], REINSTATE)
    assert reg.is_revoked(node) is False


def test_is_issued_only_for_roots(reg: Harness, batch: MerkleTree) -> None:
    assert reg.is_issued(batch.root) is True
    assert reg.is_issued(batch.leaves[0]) is False
    assert reg.is_revoked(h("unknown")) is False
