"""Verdict integrity under OpenAttestation's own verifier (@govtechsg/oa-verify) on a real chain (issues 10
and 16).

Agency A issues a batch with credreg's own issuance. Agencies B and C then interfere as hostile accredited
agencies would: they embed A's root, one of A's leaves and one of A's intermediate nodes in trees of their
own, record A's root as their own (a squat), and revoke or suspend all of it in their own namespaces.
OpenAttestation's verifier reads each document's own store (`issuers[0].documentStore`, the agency's store),
so none of that may reach A's documents. And a document in A's name whose root only B recorded is not
issued: A never recorded it.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from lifecycle_support import (
    ACCOUNTS,
    IDENTITY_LOCATION,
    OTHER_ADMIN,
    OTHER_SIGNER,
    RELAYER,
    SIGNER,
    World,
    documents_in,
    load,
    sample_results,
    set_up_registry,
)
from test_oa_verify import INTEGRITY, STATUS, fragment, oa_verify

from credreg.chain.devchain import ephemeral_chain
from credreg.chain.eip712 import StatusAction
from credreg.chain.states import Status
from credreg.documents.layout import wrap_certificates
from credreg.documents.merkle import MerkleTree, proof_path
from credreg.documents.model import AgencyRef
from credreg.documents.results import IssueContext, read_results
from credreg.hashes import hash_bytes
from credreg.registry import AgencyAdmin, Relayer
from credreg.verify import verify_documents

DAY = 86_400
C_ADMIN, C_SIGNER = ACCOUNTS[7], ACCOUNTS[8]

Judged = dict[str, tuple[dict[str, Any], str]]


def add_agency(world: World, name: str, code: str, admin: LocalAccount, signer: LocalAccount) -> int:
    agency_id = world.governor.register_agency(name, code, admin.address)
    since = world.now() - DAY
    world.governor.accredit(agency_id, world.scope_id, since)
    AgencyAdmin(world.registry, admin).add_signer(agency_id, signer.address, since)
    return agency_id


def record(world: World, signer: LocalAccount, root: str) -> None:
    """`signer`'s agency records `root` under its own accreditation, straight on the ledger."""
    request = world.registry.issue_request(root, world.scope_id, 0)
    Relayer(world.registry, RELAYER).issue(world.registry.sign_issue(signer, request))


def change(world: World, signer: LocalAccount, agency_id: int, root: str, target: str, proof: list[str],
           action: StatusAction) -> None:  # fmt: skip
    signed = world.registry.sign_status_change(signer, agency_id, root, target, proof, action, reason=1)
    Relayer(world.registry, RELAYER).set_status(signed)


def embed_and_change(
    world: World, signer: LocalAccount, agency_id: int, victim: str, action: StatusAction
) -> None:
    """`signer`'s agency builds a tree over `victim` and a random hash, records it, and changes `victim`'s
    status against it in its own namespace."""
    tree = MerkleTree([hash_bytes(victim), os.urandom(32)])
    root = "0x" + tree.root.hex()
    record(world, signer, root)
    change(
        world,
        signer,
        agency_id,
        root,
        victim,
        ["0x" + p.hex() for p in tree.proof(hash_bytes(victim))],
        action,
    )
    assert world.registry.status_of(agency_id, victim).status is not Status.NONE


def signature(document: dict[str, Any]) -> tuple[str, str, list[str]]:
    """(root, target hash, proof) of a wrapped document, as 0x-hex."""
    sig = document["signature"]
    return "0x" + sig["merkleRoot"], "0x" + sig["targetHash"], ["0x" + p for p in sig["proof"]]


def wrapped_for(world: World, base: Path, agency_id: int, name: str, prefix: str) -> list[dict[str, Any]]:
    """Two documents wrapped with credreg's own layout in agency `agency_id`'s name, not recorded."""
    context = IssueContext(
        agency=AgencyRef(id=agency_id, name=name),
        chain_id=world.registry.domain.chain_id,
        registry=world.registry.address,
    )
    rows = sample_results(base / f"{prefix}.csv", 2, prefix=prefix).read_bytes()
    certificates = read_results(io.BytesIO(rows), context=context, file_format="csv")
    return [dict(d) for d in wrap_certificates(certificates, identity_location=IDENTITY_LOCATION)]


@pytest.fixture(scope="module")
def judged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Judged]:
    """Each case's document judged by OpenAttestation (its answer) and by credreg (its code), in one run."""
    base = tmp_path_factory.mktemp("oa-integrity")
    with ephemeral_chain() as chain:
        world = set_up_registry(chain.url)
        a = world.agency_id
        b = add_agency(world, "Hostile Assessment Centre B", "SH-0002", OTHER_ADMIN, OTHER_SIGNER)
        c = add_agency(world, "Hostile Assessment Centre C", "GZ-0003", C_ADMIN, C_SIGNER)

        world.issue(sample_results(base / "a.csv", 8, prefix="AGEN"), base / "a")
        batch = [load(p) for p in documents_in(base / "a", "AGEN")]
        assert all(
            d["data"]["issuers"][0]["documentStore"].endswith(world.registry.document_store(a)) for d in batch
        )
        r_a = signature(batch[0])[0]

        # (a) B and C interfere with A's batch, each in its own namespace.
        embed_and_change(world, OTHER_SIGNER, b, r_a, StatusAction.REVOKE)  # A's root
        _, leaf, _ = signature(batch[1])
        embed_and_change(world, OTHER_SIGNER, b, leaf, StatusAction.SUSPEND)  # one of A's leaves
        _, leaf2, proof2 = signature(batch[2])
        node = "0x" + proof_path(hash_bytes(leaf2), [hash_bytes(p) for p in proof2])[1].hex()
        embed_and_change(world, C_SIGNER, c, node, StatusAction.REVOKE)  # an intermediate node of A's tree
        record(world, C_SIGNER, r_a)  # C squats A's root itself ...
        change(world, C_SIGNER, c, r_a, r_a, [], StatusAction.REVOKE)  # ... and revokes it, in C's namespace
        assert sorted(world.registry.issued_by(r_a)) == [a, c]
        for hash_ in (r_a, leaf, node):
            assert world.registry.status_of(a, hash_).status is Status.NONE

        # A's own revocation and suspension.
        for document, action in ((batch[3], StatusAction.REVOKE), (batch[4], StatusAction.SUSPEND)):
            root, target, proof = signature(document)
            change(world, SIGNER, a, root, target, proof, action)

        # (b) Documents in A's name that only B recorded; and in B's name that only A recorded.
        in_a_name = wrapped_for(world, base, a, "Beijing Digital Skills Centre", "FAKEA")
        record(world, OTHER_SIGNER, signature(in_a_name[0])[0])
        in_b_name = wrapped_for(world, base, b, "Hostile Assessment Centre B", "FAKEB")
        record(world, SIGNER, signature(in_b_name[0])[0])

        cases: dict[str, dict[str, Any]] = {
            "root embedded and revoked by B, squatted and revoked by C": batch[0],
            "leaf embedded and suspended by B": batch[1],
            "node embedded and revoked by C": batch[2],
            "genuine, untouched": batch[5],
            "genuine, last leaf": batch[7],
            "revoked by A": batch[3],
            "suspended by A": batch[4],
            "in A's name, recorded by B only": in_a_name[0],
            "in A's name, recorded by B only, second leaf": in_a_name[1],
            "in B's name, recorded by A only": in_b_name[0],
        }
        answers = oa_verify(chain.url, list(cases.values()))
        reports = verify_documents(world.registry, list(cases.values()))
        yield {
            name: (answer, report.code) for name, answer, report in zip(cases, answers, reports, strict=True)
        }


@pytest.mark.parametrize(
    "case",
    [
        "root embedded and revoked by B, squatted and revoked by C",
        "leaf embedded and suspended by B",
        "node embedded and revoked by C",
        "genuine, untouched",
        "genuine, last leaf",
    ],
)
def test_openattestation_keeps_an_agencys_certificates_valid_whatever_other_agencies_did(
    judged: Judged, case: str
) -> None:
    answer, credreg_code = judged[case]
    assert answer["valid"], answer
    assert fragment(answer, INTEGRITY)["status"] == "VALID"
    assert fragment(answer, STATUS)["status"] == "VALID", fragment(answer, STATUS)
    assert credreg_code == "valid"


@pytest.mark.parametrize(
    ("case", "expected_code"), [("revoked by A", "revoked"), ("suspended by A", "suspended")]
)
def test_openattestation_reports_the_agencys_own_revocation_and_suspension(
    judged: Judged, case: str, expected_code: str
) -> None:
    answer, credreg_code = judged[case]
    assert not answer["valid"]
    assert answer["integrity"], "the document itself is intact"
    assert fragment(answer, STATUS)["status"] == "INVALID"
    assert fragment(answer, STATUS)["reason"]["codeString"] == "DOCUMENT_REVOKED"
    assert credreg_code == expected_code


@pytest.mark.parametrize(
    "case",
    [
        "in A's name, recorded by B only",
        "in A's name, recorded by B only, second leaf",
        "in B's name, recorded by A only",
    ],
)
def test_openattestation_reports_not_issued_for_a_document_its_named_agency_never_recorded(
    judged: Judged, case: str
) -> None:
    answer, credreg_code = judged[case]
    assert not answer["valid"], answer
    assert answer["integrity"], "the document itself is intact"
    assert not answer["status"]
    assert fragment(answer, STATUS)["status"] == "INVALID"
    assert fragment(answer, STATUS)["reason"]["codeString"] == "DOCUMENT_NOT_ISSUED"
    assert credreg_code == "not-issued"
