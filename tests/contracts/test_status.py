"""Revoking, suspending and reinstating roots, nodes and leaves: signed by the agency, or by the governor."""

from __future__ import annotations

import pytest
from eth_account.messages import _hash_eip191_message, encode_typed_data
from eth_utils.crypto import keccak
from registry_harness import (
    ISSUE_TYPES,
    REINSTATE,
    REVOKE,
    STATUS_CHANGE_TYPES,
    SUSPEND,
    Harness,
    Reverted,
    h,
)

from credreg.chain.states import Verdict
from credreg.documents.merkle import MerkleTree

NONE, REVOKED, SUSPENDED = 0, 1, 2


@pytest.fixture
def batch(reg: Harness) -> MerkleTree:
    """A batch of eight documents, issued."""
    tree = MerkleTree([h(f"batch {i}") for i in range(8)])
    reg.issue(tree.root)
    return tree


def test_set_status_revokes_a_leaf_and_records_who_when_and_why(reg: Harness, batch: MerkleTree) -> None:
    leaf = batch.leaves[3]
    t = reg.now() + 10
    receipt = reg.set_status(batch.root, leaf, batch.proof(leaf), REVOKE, 42, at=t)
    assert reg.status_of(leaf) == (REVOKED, 42, 1, t, False)
    assert reg.events(receipt, "CredentialStatusChanged") == [
        {
            "root": batch.root,
            "agencyId": reg.agency_id,
            "actor": reg.signer.address,
            "target": leaf,
            "action": REVOKE,
            "reason": 42,
            "nonce": 1,
            "since": t,
            "byGovernor": False,
        }
    ]
    assert reg.state(batch.root, leaf, batch.proof(leaf))[:4] == (Verdict.LEAF_REVOKED, leaf, 42, t)
    other = batch.leaves[4]
    assert reg.verdict(batch.root, other, batch.proof(other)) == Verdict.VALID


def test_set_status_can_be_signed_by_any_current_signer_of_the_issuing_agency(
    reg: Harness, batch: MerkleTree
) -> None:
    reg.send("addSigner", reg.agency_id, reg.spare_signer.address, 0, 0, sender=reg.admin)
    reg.set_status(batch.root, batch.root, [], SUSPEND, key=reg.spare_signer)
    assert reg.status_of(batch.root)[0] == SUSPENDED


def test_suspend_then_reinstate_restores_validity_and_bumps_the_nonce(
    reg: Harness, batch: MerkleTree
) -> None:
    leaf = batch.leaves[0]
    proof = batch.proof(leaf)
    reg.set_status(batch.root, leaf, proof, SUSPEND, 5)
    assert reg.verdict(batch.root, leaf, proof) == Verdict.LEAF_SUSPENDED
    assert reg.is_revoked(leaf) is True
    reg.set_status(batch.root, leaf, proof, REINSTATE, 6)
    assert reg.verdict(batch.root, leaf, proof) == Verdict.VALID
    assert reg.is_revoked(leaf) is False
    assert reg.status_of(leaf)[:3] == (NONE, 6, 2)


def test_revocation_is_final(reg: Harness, batch: MerkleTree) -> None:
    leaf = batch.leaves[1]
    proof = batch.proof(leaf)
    reg.set_status(batch.root, leaf, proof, SUSPEND)
    reg.set_status(batch.root, leaf, proof, REVOKE)
    for action in (REVOKE, SUSPEND, REINSTATE):
        with pytest.raises(Reverted) as err:
            reg.set_status(batch.root, leaf, proof, action)
        assert (err.value.name, err.value.args_) == (
            "CredentialRegistryInvalidTransition",
            (leaf, REVOKED, action),
        )
        with pytest.raises(Reverted) as err:
            reg.governor_status(batch.root, leaf, proof, action)
        assert err.value.name == "CredentialRegistryInvalidTransition"
    assert reg.verdict(batch.root, leaf, proof) == Verdict.LEAF_REVOKED


def test_suspend_reverts_when_already_suspended_and_reinstate_when_not(
    reg: Harness, batch: MerkleTree
) -> None:
    with pytest.raises(Reverted) as err:
        reg.set_status(batch.root, batch.root, [], REINSTATE)
    assert (err.value.name, err.value.args_) == (
        "CredentialRegistryInvalidTransition",
        (batch.root, NONE, REINSTATE),
    )
    reg.set_status(batch.root, batch.root, [], SUSPEND)
    with pytest.raises(Reverted) as err:
        reg.set_status(batch.root, batch.root, [], SUSPEND)
    assert (err.value.name, err.value.args_) == (
        "CredentialRegistryInvalidTransition",
        (batch.root, SUSPENDED, SUSPEND),
    )


@pytest.mark.parametrize("action", [0, 4, 255])
def test_set_status_reverts_for_an_unknown_action(reg: Harness, batch: MerkleTree, action: int) -> None:
    with pytest.raises(Reverted) as err:
        reg.set_status(batch.root, batch.root, [], action)
    assert (err.value.name, err.value.args_) == ("CredentialRegistryInvalidAction", (action,))
    with pytest.raises(Reverted) as err:
        reg.governor_status(batch.root, batch.root, [], action)
    assert err.value.name == "CredentialRegistryInvalidAction"


def test_set_status_reverts_for_a_root_never_issued(reg: Harness) -> None:
    with pytest.raises(Reverted) as err:
        reg.set_status(h("unknown"), h("unknown"), [], REVOKE)
    assert (err.value.name, err.value.args_) == ("CredentialRegistryNotIssued", (reg.agency_id, h("unknown")))
    with pytest.raises(Reverted) as err:
        reg.governor_status(h("unknown"), h("unknown"), [], REVOKE)
    assert err.value.name == "CredentialRegistryNotIssued"


def test_set_status_reverts_for_a_leaf_proved_against_the_wrong_root(reg: Harness, batch: MerkleTree) -> None:
    other = MerkleTree([h(f"other {i}") for i in range(8)])
    reg.issue(other.root)
    leaf = batch.leaves[2]
    with pytest.raises(Reverted) as err:
        reg.set_status(other.root, leaf, batch.proof(leaf), REVOKE)
    assert (err.value.name, err.value.args_) == ("CredentialRegistryInvalidProof", (other.root, leaf))
    with pytest.raises(Reverted):
        reg.governor_status(other.root, leaf, batch.proof(leaf), REVOKE)
    assert reg.status_of(leaf)[2] == 0


def test_set_status_reverts_for_a_tampered_proof(reg: Harness, batch: MerkleTree) -> None:
    leaf = batch.leaves[2]
    proof = batch.proof(leaf)
    with pytest.raises(Reverted) as err:
        reg.set_status(batch.root, leaf, [proof[0], proof[2], proof[1]], REVOKE)
    assert err.value.name == "CredentialRegistryInvalidProof"


def test_set_status_on_an_intermediate_node_affects_only_its_subtree(reg: Harness, batch: MerkleTree) -> None:
    leaf = batch.leaves[5]
    node = batch.path(leaf)[1]  # parent of leaves 4 and 5
    reg.set_status(batch.root, node, batch.proof(leaf)[1:], SUSPEND, 3)
    for i in range(8):
        other = batch.leaves[i]
        expected = Verdict.NODE_SUSPENDED if i in (4, 5) else Verdict.VALID
        assert reg.verdict(batch.root, other, batch.proof(other)) == expected, i
    assert reg.state(batch.root, leaf, batch.proof(leaf))[1] == node


def test_signature_cannot_be_replayed_after_the_nonce_moved(reg: Harness, batch: MerkleTree) -> None:
    deadline = reg.now() + 3600
    r, vs = reg.sign_status(reg.signer, batch.root, batch.root, SUSPEND, 1, deadline)
    a = reg.agency_id
    reg.send("setStatus", a, batch.root, batch.root, [], SUSPEND, 1, deadline, r, vs, sender=reg.relayer)
    reg.set_status(batch.root, batch.root, [], REINSTATE)
    with pytest.raises(Reverted) as err:
        reg.send("setStatus", a, batch.root, batch.root, [], SUSPEND, 1, deadline, r, vs, sender=reg.relayer)
    assert err.value.name == "CredentialRegistryUnknownSigner"
    assert err.value.args_[0] != reg.signer.address
    assert reg.status_of(batch.root)[:3] == (NONE, 1, 2)


def test_a_governor_change_invalidates_outstanding_agency_signatures(reg: Harness, batch: MerkleTree) -> None:
    deadline = reg.now() + 3600
    r, vs = reg.sign_status(reg.signer, batch.root, batch.root, REVOKE, 1, deadline)
    a = reg.agency_id
    reg.governor_status(batch.root, batch.root, [], SUSPEND)
    reg.governor_status(batch.root, batch.root, [], REINSTATE)
    with pytest.raises(Reverted) as err:
        reg.send("setStatus", a, batch.root, batch.root, [], REVOKE, 1, deadline, r, vs, sender=reg.relayer)
    assert err.value.name == "CredentialRegistryUnknownSigner"
    assert reg.status_of(batch.root)[0] == NONE


def test_signature_is_accepted_at_its_deadline_and_not_after(reg: Harness, batch: MerkleTree) -> None:
    t = reg.now() + 10
    with pytest.raises(Reverted) as err:
        reg.set_status(batch.root, batch.root, [], SUSPEND, deadline=t - 1, at=t)
    assert (err.value.name, err.value.args_) == ("CredentialRegistryExpiredSignature", (t - 1, t))
    reg.set_status(batch.root, batch.root, [], SUSPEND, deadline=t + 1, at=t + 1)
    assert reg.status_of(batch.root)[0] == SUSPENDED


@pytest.mark.parametrize("domain", [{"chain_id": 1}, {"contract": "0x" + "11" * 20}])
def test_set_status_reverts_for_a_signature_from_another_domain(
    reg: Harness, batch: MerkleTree, domain: dict
) -> None:
    deadline = reg.now() + 3600
    r, vs = reg.sign_status(reg.signer, batch.root, batch.root, REVOKE, 1, deadline, **domain)
    a = reg.agency_id
    with pytest.raises(Reverted) as err:
        reg.send("setStatus", a, batch.root, batch.root, [], REVOKE, 1, deadline, r, vs, sender=reg.relayer)
    assert err.value.name == "CredentialRegistryUnknownSigner"
    assert err.value.args_[0] != reg.signer.address


def test_set_status_reverts_when_signed_for_another_target_or_action(reg: Harness, batch: MerkleTree) -> None:
    deadline = reg.now() + 3600
    r, vs = reg.sign_status(reg.signer, batch.root, batch.root, SUSPEND, 1, deadline)
    a, leaf = reg.agency_id, batch.leaves[0]
    for target, proof, action in ((batch.root, [], REVOKE), (leaf, batch.proof(leaf), SUSPEND)):
        with pytest.raises(Reverted) as err:
            reg.send(
                "setStatus", a, batch.root, target, proof, action, 1, deadline, r, vs, sender=reg.relayer
            )
        assert err.value.name == "CredentialRegistryUnknownSigner"
        assert err.value.args_[0] != reg.signer.address
    assert reg.status_of(batch.root)[2] == reg.status_of(leaf)[2] == 0


def test_set_status_reverts_when_relayed_for_another_agencys_namespace(
    reg: Harness, batch: MerkleTree
) -> None:
    # The agency id is signed: A's signature cannot be moved to B's namespace, where B recorded the same root.
    b = reg.add_agency("Agency B", "REG-B", reg.other_admin, reg.other_signer)
    reg.issue(batch.root, key=reg.other_signer)
    deadline = reg.now() + 3600
    r, vs = reg.sign_status(reg.signer, batch.root, batch.root, REVOKE, 1, deadline)
    with pytest.raises(Reverted) as err:
        reg.send("setStatus", b, batch.root, batch.root, [], REVOKE, 1, deadline, r, vs, sender=reg.relayer)
    assert err.value.name == "CredentialRegistryUnknownSigner"
    assert err.value.args_[0] not in (reg.signer.address, reg.other_signer.address)
    assert reg.status_of(batch.root, agency=b)[2] == 0
    reg.send(
        "setStatus", reg.agency_id, batch.root, batch.root, [], REVOKE, 1, deadline, r, vs, sender=reg.relayer
    )
    assert reg.status_of(batch.root)[0] == REVOKED


def test_set_status_reverts_for_a_stranger_key(reg: Harness, batch: MerkleTree) -> None:
    with pytest.raises(Reverted) as err:
        reg.set_status(batch.root, batch.root, [], REVOKE, key=reg.stranger)
    assert (err.value.name, err.value.args_) == ("CredentialRegistryUnknownSigner", (reg.stranger.address, 0))


def test_set_status_reverts_for_a_signer_of_another_agency(reg: Harness, batch: MerkleTree) -> None:
    other = reg.add_agency("Agency B", "REG-B", reg.other_admin, reg.other_signer)
    with pytest.raises(Reverted) as err:
        reg.set_status(batch.root, batch.root, [], REVOKE, key=reg.other_signer)
    assert (err.value.name, err.value.args_) == (
        "CredentialRegistryUnknownSigner",
        (reg.other_signer.address, other),
    )


def test_set_status_reverts_for_a_retired_or_compromised_signer(reg: Harness, batch: MerkleTree) -> None:
    t = reg.now() + 10
    reg.send("retireSigner", reg.signer.address, sender=reg.admin, at=t)
    with pytest.raises(Reverted) as err:
        reg.set_status(batch.root, batch.root, [], REVOKE, at=t + 1)
    assert err.value.name == "CredentialRegistrySignerNotValid"
    reg.send("addSigner", reg.agency_id, reg.spare_signer.address, 0, 0, sender=reg.admin)
    reg.send("reportCompromised", reg.spare_signer.address, t + 2, sender=reg.admin, at=t + 2)
    with pytest.raises(Reverted) as err:
        reg.set_status(batch.root, batch.root, [], REVOKE, key=reg.spare_signer, at=t + 3)
    assert (err.value.name, err.value.args_) == (
        "CredentialRegistrySignerCompromised",
        (reg.spare_signer.address, t + 2),
    )


def test_a_suspended_agency_can_revoke_and_suspend_but_not_reinstate(reg: Harness, batch: MerkleTree) -> None:
    leaf = batch.leaves[0]
    reg.set_status(batch.root, leaf, batch.proof(leaf), SUSPEND)
    reg.send("suspendAgency", reg.agency_id, 1, sender=reg.governor)
    with pytest.raises(Reverted) as err:
        reg.set_status(batch.root, leaf, batch.proof(leaf), REINSTATE)
    assert (err.value.name, err.value.args_) == ("CredentialRegistryAgencyNotActive", (reg.agency_id, 2))
    reg.set_status(batch.root, batch.root, [], SUSPEND)
    reg.set_status(batch.root, leaf, batch.proof(leaf), REVOKE)
    assert reg.status_of(leaf)[0] == REVOKED


def test_a_revoked_agency_can_no_longer_change_statuses(reg: Harness, batch: MerkleTree) -> None:
    reg.send("revokeAgency", reg.agency_id, reg.now() + 1, 1, sender=reg.governor, at=reg.now() + 1)
    with pytest.raises(Reverted) as err:
        reg.set_status(batch.root, batch.root, [], REVOKE)
    assert (err.value.name, err.value.args_) == ("CredentialRegistryAgencyNotActive", (reg.agency_id, 3))
    reg.governor_status(batch.root, batch.root, [], REVOKE)
    assert reg.status_of(batch.root)[0] == REVOKED


def test_governor_changes_any_status_and_is_recorded_as_governor(reg: Harness, batch: MerkleTree) -> None:
    leaf = batch.leaves[7]
    reg.set_status(batch.root, leaf, batch.proof(leaf), SUSPEND)
    receipt = reg.governor_status(batch.root, leaf, batch.proof(leaf), REINSTATE, 9)
    since = reg.w3.eth.get_block(receipt["blockNumber"])["timestamp"]
    assert reg.events(receipt, "CredentialStatusChanged")[0] == {
        "root": batch.root,
        "agencyId": reg.agency_id,
        "actor": reg.governor.address,
        "target": leaf,
        "action": REINSTATE,
        "reason": 9,
        "nonce": 2,
        "since": since,
        "byGovernor": True,
    }
    assert reg.status_of(leaf)[4] is True  # set by the governor
    reg.set_status(batch.root, leaf, batch.proof(leaf), SUSPEND)
    assert reg.status_of(leaf)[4] is False


def test_an_agency_cannot_lift_a_governor_suspension(reg: Harness, batch: MerkleTree) -> None:
    reg.governor_status(batch.root, batch.root, [], SUSPEND, 3)
    with pytest.raises(Reverted) as err:
        reg.set_status(batch.root, batch.root, [], REINSTATE)
    assert (err.value.name, err.value.args_) == (
        "CredentialRegistryStatusHeldByGovernor",
        (reg.agency_id, batch.root),
    )
    assert reg.status_of(batch.root)[:2] == (SUSPENDED, 3)
    assert reg.verdict(batch.root) == Verdict.ROOT_SUSPENDED


def test_an_agency_may_revoke_on_top_of_a_governor_suspension(reg: Harness, batch: MerkleTree) -> None:
    leaf = batch.leaves[3]
    reg.governor_status(batch.root, leaf, batch.proof(leaf), SUSPEND, 3)
    receipt = reg.set_status(batch.root, leaf, batch.proof(leaf), REVOKE, 4)
    assert reg.events(receipt, "CredentialStatusChanged")[0]["byGovernor"] is False
    assert reg.status_of(leaf)[:3] == (REVOKED, 4, 2)
    assert reg.status_of(leaf)[4] is False
    assert reg.verdict(batch.root, leaf, batch.proof(leaf)) == Verdict.LEAF_REVOKED


def test_governor_may_reinstate_its_own_suspension_and_the_agency_acts_freely_after(
    reg: Harness, batch: MerkleTree
) -> None:
    reg.governor_status(batch.root, batch.root, [], SUSPEND, 3)
    reg.governor_status(batch.root, batch.root, [], REINSTATE, 4)
    assert reg.status_of(batch.root)[:3] == (NONE, 4, 2)
    assert reg.verdict(batch.root) == Verdict.VALID
    reg.set_status(batch.root, batch.root, [], SUSPEND)
    reg.set_status(batch.root, batch.root, [], REINSTATE)  # its own suspension this time
    assert reg.status_of(batch.root)[0] == NONE


def test_another_agency_marking_the_same_hash_changes_only_its_own_namespace(
    reg: Harness, batch: MerkleTree
) -> None:
    # v1 kept one status per hash, so agency B's status locked agency A out; v2 keeps one per agency and hash.
    victim = batch.leaves[2]
    b = reg.add_agency("Agency B", "REG-B", reg.other_admin, reg.other_signer)
    copy = MerkleTree([victim, h("b's own document")])
    reg.issue(copy.root, key=reg.other_signer)
    reg.set_status(copy.root, victim, copy.proof(victim), SUSPEND, key=reg.other_signer, agency=b)

    assert reg.verdict(copy.root, victim, copy.proof(victim), agency=b) == Verdict.LEAF_SUSPENDED
    assert reg.is_revoked(victim, agency=b) is True
    assert reg.verdict(batch.root, victim, batch.proof(victim)) == Verdict.VALID
    assert reg.is_revoked(victim) is False
    assert reg.status_of(victim) == (NONE, 0, 0, 0, False)
    reg.set_status(batch.root, victim, batch.proof(victim), REVOKE)
    assert reg.verdict(batch.root, victim, batch.proof(victim)) == Verdict.LEAF_REVOKED
    assert reg.status_of(victim, agency=b)[0] == SUSPENDED


def test_status_change_digest_matches_an_independent_eip712_encoder(reg: Harness) -> None:
    message = {
        "agencyId": 7,
        "root": h(1),
        "target": h(2),
        "action": 2,
        "reason": 77,
        "nonce": 5,
        "deadline": 2**40,
    }
    expected = _hash_eip191_message(encode_typed_data(reg.domain(), STATUS_CHANGE_TYPES, message))
    assert reg.call("statusChangeDigest", 7, h(1), h(2), 2, 77, 5, 2**40) == expected


def test_domain_separator_matches_eip5267_fields(reg: Harness) -> None:
    fields, name, version, chain_id, contract, salt, extensions = reg.call("eip712Domain")
    assert (fields, name, version, chain_id, contract, salt, extensions) == (
        b"\x0f",
        "credreg",
        "2",
        reg.w3.eth.chain_id,
        reg.address,
        bytes(32),
        [],
    )
    message = {"root": h(1), "scope": h(2), "validUntil": 0, "deadline": 9}
    digest = _hash_eip191_message(encode_typed_data(reg.domain(), ISSUE_TYPES, message))
    struct_hash = keccak(reg.call("ISSUE_TYPEHASH") + h(1) + h(2) + bytes(32) + (9).to_bytes(32, "big"))
    assert keccak(b"\x19\x01" + reg.call("DOMAIN_SEPARATOR") + struct_hash) == digest
    assert reg.call("ISSUE_TYPEHASH") == keccak(
        text="Issue(bytes32 root,bytes32 scope,uint40 validUntil,uint64 deadline)"
    )
    assert reg.call("STATUS_CHANGE_TYPEHASH") == keccak(
        text="StatusChange(uint32 agencyId,bytes32 root,bytes32 target,uint8 action,uint16 reason,uint32 nonce,"
        "uint64 deadline)"
    )
    assert reg.call("VERSION") == "2.0.0"


def test_revoking_one_leaf_of_a_ten_thousand_leaf_batch_stays_within_gas_target(reg: Harness) -> None:
    tree = MerkleTree([h(f"large {i}") for i in range(10_000)])
    reg.issue(tree.root)
    leaf = tree.leaves[4321]
    assert len(tree.proof(leaf)) == 14
    receipt = reg.set_status(tree.root, leaf, tree.proof(leaf), REVOKE, 1)
    # At most 5% above contract version 1's 73,330 for the whole transaction.
    assert receipt["gasUsed"] <= 76_996
    assert reg.verdict(tree.root, leaf, tree.proof(leaf)) == Verdict.LEAF_REVOKED
