"""Each agency's OpenAttestation document store: where it lives, and that it answers in its agency's name only.

How `isRevoked` follows each way a credential becomes void is checked in test_credential_status.py, through
`Harness.is_revoked`, which reads the agency's store (and compares it with the registry's own view).
"""

from __future__ import annotations

import pytest
from registry_harness import REVOKE, SUSPEND, Harness, h

from credreg.documents.merkle import MerkleTree
from credreg.documents.store import document_store_address, store_template_address


@pytest.fixture
def agency_b(reg: Harness) -> int:
    return reg.add_agency("Agency B", "REG-B", reg.other_admin, reg.other_signer)


def test_each_agency_store_lives_at_the_address_computed_offline(reg: Harness) -> None:
    receipt = reg.send("registerAgency", "Agency B", "REG-B", reg.other_admin.address, sender=reg.governor)
    (event,) = reg.events(receipt, "AgencyRegistered")
    b = event["agencyId"]
    for agency_id in (reg.agency_id, b):
        address = document_store_address(reg.address, agency_id)
        assert reg.call("agency", agency_id)[6] == address
        store = reg.store_at(address)
        assert store.functions.agencyId().call() == agency_id
        assert store.functions.REGISTRY().call() == reg.address
    assert event["documentStore"] == document_store_address(reg.address, b)
    assert document_store_address(reg.address, reg.agency_id) != document_store_address(reg.address, b)


def test_a_store_is_issued_answers_only_for_its_agencys_roots(reg: Harness, agency_b: int) -> None:
    reg.issue(h("b's root"), key=reg.other_signer)
    reg.issue(h("a's root"))
    store_a, store_b = reg.store(), reg.store(agency_b)
    assert store_b.functions.isIssued(h("b's root")).call() is True
    assert store_a.functions.isIssued(h("b's root")).call() is False
    assert store_a.functions.isIssued(h("a's root")).call() is True
    assert store_b.functions.isIssued(h("a's root")).call() is False


def test_a_store_is_revoked_answers_only_for_its_agencys_statuses(reg: Harness, agency_b: int) -> None:
    tree = MerkleTree([h("shared leaf"), h("b's leaf")])
    reg.issue(tree.root)
    reg.issue(tree.root, key=reg.other_signer)
    leaf = tree.leaves[0]
    reg.set_status(tree.root, leaf, tree.proof(leaf), SUSPEND, key=reg.other_signer, agency=agency_b)
    assert reg.store(agency_b).functions.isRevoked(leaf).call() is True
    assert reg.store().functions.isRevoked(leaf).call() is False
    reg.set_status(tree.root, tree.root, [], REVOKE)
    assert reg.store().functions.isRevoked(tree.root).call() is True
    assert reg.store(agency_b).functions.isRevoked(tree.root).call() is False


def test_a_store_is_issued_is_false_for_leaves_and_unknown_hashes(reg: Harness) -> None:
    tree = MerkleTree([h("leaf 1"), h("leaf 2")])
    reg.issue(tree.root)
    assert reg.is_issued(tree.root) is True
    assert reg.is_issued(tree.leaves[0]) is False
    assert reg.is_issued(h("unknown")) is False
    assert reg.is_revoked(h("unknown")) is False


def test_the_store_template_answers_for_no_agency(reg: Harness) -> None:
    tree = MerkleTree([h("t 1"), h("t 2")])
    reg.issue(tree.root)
    leaf = tree.leaves[0]
    reg.set_status(tree.root, leaf, tree.proof(leaf), REVOKE)
    reg.send("revokeAgency", reg.agency_id, 0, 1, sender=reg.governor)  # every root of A void from time 0
    assert reg.is_revoked(tree.root) is True

    template = reg.store_at(store_template_address(reg.address))
    assert len(reg.w3.eth.get_code(template.address)) > 0
    assert template.functions.agencyId().call() == 0
    assert template.functions.REGISTRY().call() == reg.address
    assert template.functions.isIssued(tree.root).call() is False
    assert template.functions.isRevoked(tree.root).call() is False
    assert template.functions.isRevoked(leaf).call() is False


def test_a_store_follows_the_registry_without_holding_state(reg: Harness) -> None:
    store = reg.store()
    assert store.functions.isIssued(h("later")).call() is False
    reg.issue(h("later"))
    assert store.functions.isIssued(h("later")).call() is True
    # An EIP-1167 clone with the agency id appended: 45 bytes of proxy and 4 of argument.
    code = bytes(reg.w3.eth.get_code(store.address))
    assert len(code) == 45 + 4
    assert code[-4:] == reg.agency_id.to_bytes(4, "big")
