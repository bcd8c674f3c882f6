"""The life of credentials on a real anvil chain, through the Python library.

The governor sets up a scope and an agency; the agency issues a 10,000-certificate batch and a single
certificate; a holder hides a field; an employer verifies; the agency revokes and suspends; the governor
revokes an agency with a cut-off; a signer key is reported compromised; a credential expires. Every verdict
must name the step that decided it and leave the other steps as they are.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from lifecycle_support import (
    DAY,
    OTHER_ADMIN,
    OTHER_SIGNER,
    RELAYER,
    SECOND_SIGNER,
    SIGNER,
    World,
    chain_date,
    documents_in,
    load,
    sample_results,
    set_up_registry,
    write_rows,
)

from credreg.chain.devchain import ephemeral_chain
from credreg.chain.eip712 import StatusAction
from credreg.documents.disclosure import disclose
from credreg.documents.layout import binding_from_document
from credreg.documents.model import expiry_timestamp
from credreg.documents.wrap import dump_document
from credreg.errors import ConfigError, ContractRevert
from credreg.issuance import JOURNAL_DIR, IssueOutcome
from credreg.registry import AgencyAdmin, AgencyState, Relayer, Verdict
from credreg.samples import sample_rows
from credreg.verify import STEPS, Outcome, StepStatus, VerificationReport, verify_document, verify_documents

BATCH_SIZE = 10_000
STEP_NAMES = [name for name, _ in STEPS]


@dataclass
class Issued:
    """A registry holding one 10,000-certificate batch (numbers BJ…) and one single certificate (SOLO…)."""

    world: World
    batch: IssueOutcome
    batch_files: list[Path]
    single: IssueOutcome
    single_file: Path


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Issued]:
    """Issued once for the module: wrapping and writing 10,000 certificates is the slow part.

    Tests pick their own certificates (by index) when they change statuses, and move the chain's clock
    forward by at most a few days, so that the batch (valid for three years) stays valid throughout.
    """
    base = tmp_path_factory.mktemp("lifecycle")
    with ephemeral_chain() as chain:
        world = set_up_registry(chain.url)
        batch = world.issue(sample_results(base / "batch.csv", BATCH_SIZE, prefix="BJ"), base / "batch")
        single = world.issue(sample_results(base / "single.csv", 1, prefix="SOLO", seed=7), base / "single")
        yield Issued(
            world, batch, documents_in(base / "batch", "BJ"), single, *documents_in(base / "single", "SOLO")
        )


def statuses(report: VerificationReport) -> dict[str, StepStatus]:
    return {step.name: step.status for step in report.steps}


def assert_valid(report: VerificationReport) -> None:
    assert (report.verdict, report.code) == (Outcome.VALID, "valid"), report.model_dump_json(indent=2)
    assert set(statuses(report).values()) == {StepStatus.VALID}, statuses(report)


def assert_fails_at(
    report: VerificationReport,
    code: str,
    failing: str,
    *,
    unknown: Iterable[str] = (),
    also_failing: Iterable[str] = (),
) -> None:
    """`report` is invalid with `code`, decided by step `failing`; every other step is valid, except
    `unknown` ones the ledger's answer says nothing about (skipped) and `also_failing` ones."""
    assert (report.verdict, report.code) == (Outcome.INVALID, code), report.model_dump_json(indent=2)
    expected = dict.fromkeys(STEP_NAMES, StepStatus.VALID)
    expected.update(dict.fromkeys([failing, *also_failing], StepStatus.INVALID))
    expected.update(dict.fromkeys(unknown, StepStatus.SKIPPED))
    assert statuses(report) == expected


def position(path: Path) -> tuple[int, str, str, list[str]]:
    """(agency, merkle root, leaf, proof) of the document at `path`, 0x-prefixed as the chain takes them."""
    document = load(path)
    signature = document["signature"]
    return (
        binding_from_document(document).agency_id,
        "0x" + signature["merkleRoot"],
        "0x" + signature["targetHash"],
        ["0x" + p for p in signature["proof"]],
    )


def change_status(
    world: World, path: Path, action: StatusAction, reason: int, signer: LocalAccount = SIGNER
) -> None:
    """The agency signs a status change for the document at `path`; an independent relayer sends it."""
    agency, root, leaf, proof = position(path)
    signed = world.registry.sign_status_change(signer, agency, root, leaf, proof, action, reason)
    Relayer(world.registry, RELAYER).set_status(signed)


def test_the_batch_and_the_single_certificate_are_recorded_whole(issued: Issued) -> None:
    world, batch = issued.world, issued.batch.summary
    assert batch.count == BATCH_SIZE
    assert len(issued.batch_files) == BATCH_SIZE
    assert sorted(batch.files) == [p.name for p in issued.batch_files]
    assert list((issued.batch_files[0].parent / JOURNAL_DIR).glob(f"{batch.batch_id}.*")) == []
    sampled = [load(p) for p in issued.batch_files[:: BATCH_SIZE // 50]]
    assert {d["signature"]["merkleRoot"] for d in sampled} == {batch.root[2:]}
    assert max(len(d["signature"]["proof"]) for d in sampled) == 14  # ceil(log2(10,000))
    record = world.registry.record(world.agency_id, batch.root)
    assert (record.agency_id, record.scope_id, record.signer) == (
        world.agency_id,
        world.scope_id,
        SIGNER.address,
    )
    assert record.issued_at == batch.issued_at
    assert len(world.issued_events(batch.root)) == 1

    single = load(issued.single_file)
    assert single["signature"]["proof"] == []
    assert single["signature"]["merkleRoot"] == single["signature"]["targetHash"]
    assert world.registry.record(world.agency_id, issued.single.summary.root).issued


def test_an_employer_verifies_certificates_from_across_the_batch_in_one_call(issued: Issued) -> None:
    rng = random.Random(4)
    picked = sorted({0, 1, BATCH_SIZE // 2, BATCH_SIZE - 1, *rng.sample(range(BATCH_SIZE), 96)})
    files = [issued.batch_files[i] for i in picked] + [issued.single_file]
    reports = verify_documents(issued.world.registry, [p.read_bytes() for p in files])
    for path, report in zip(files, reports, strict=True):
        assert_valid(report)
        assert report.certificate_number == path.stem
        assert report.agency is not None
        assert report.agency.name == "Beijing Digital Skills Centre"
        assert report.scope is not None
        assert (report.scope.occupation_code, report.scope.level) == ("4-04-05-06", 3)
        assert report.signer == SIGNER.address
    assert reports[-1].step("merkle-proof").reason == "single document"


def test_a_holder_hides_the_id_number_and_the_copy_still_verifies(issued: Issued) -> None:
    original = load(issued.batch_files[17])
    id_number = original["data"]["recipient"]["idNumber"].split(":", 2)[2]
    shared = dump_document(disclose(original, ["recipient.idNumber"]))

    assert id_number not in shared
    assert "idNumber" not in json.loads(shared)["data"]["recipient"]
    report = verify_document(issued.world.registry, shared)
    assert_valid(report)
    assert report.hidden_fields == ["recipient.idNumber"]
    assert "1 hidden by the holder" in report.step("integrity").reason
    assert report.holder_name == original["data"]["recipient"]["name"].split(":", 2)[2]


def test_revoking_one_leaf_and_suspending_another_says_exactly_which(issued: Issued) -> None:
    world, files = issued.world, issued.batch_files
    revoked, suspended, neighbour, far = files[1234], files[5678], files[1235], files[9000]
    change_status(world, revoked, StatusAction.REVOKE, reason=3)
    change_status(world, suspended, StatusAction.SUSPEND, reason=7)
    shared_revoked = dump_document(disclose(load(revoked), ["recipient.idNumber"]))

    reports = verify_documents(
        world.registry,
        [
            revoked.read_bytes(),
            suspended.read_bytes(),
            neighbour.read_bytes(),
            far.read_bytes(),
            shared_revoked,
        ],
    )

    assert_fails_at(reports[0], "revoked", "not-revoked")
    assert "this document was revoked" in reports[0].step("not-revoked").reason
    assert "reason code 3" in reports[0].step("not-revoked").reason
    assert reports[0].target_hash == position(revoked)[2]
    assert_fails_at(reports[1], "suspended", "not-revoked")
    assert "this document is suspended" in reports[1].step("not-revoked").reason
    assert "reason code 7" in reports[1].step("not-revoked").reason
    assert_valid(reports[2])
    assert_valid(reports[3])
    assert_fails_at(reports[4], "revoked", "not-revoked")  # hiding fields hides no revocation

    change_status(world, suspended, StatusAction.REINSTATE, reason=0)
    assert_valid(verify_document(world.registry, suspended.read_bytes()))
    with pytest.raises(ContractRevert) as refused:
        change_status(world, revoked, StatusAction.REINSTATE, reason=0)
    assert refused.value.name == "CredentialRegistryInvalidTransition"
    assert verify_document(world.registry, revoked.read_bytes()).code == "revoked"


def test_agency_revocation_voids_what_it_issued_from_the_cutoff_on(issued: Issued, tmp_path: Path) -> None:
    world = issued.world
    agency_id = world.governor.register_agency("Shanghai Skills Centre", "SH-0002", OTHER_ADMIN.address)
    since = world.now() - DAY
    world.governor.accredit(agency_id, world.scope_id, since)
    AgencyAdmin(world.registry, OTHER_ADMIN).add_signer(agency_id, OTHER_SIGNER.address, since)
    early = world.issue(
        sample_results(tmp_path / "early.csv", 3, prefix="SHA"), tmp_path / "early", signer=OTHER_SIGNER
    )
    world.next_block_at(early.summary.issued_at + 100)
    late = world.issue(
        sample_results(tmp_path / "late.csv", 3, prefix="SHB"), tmp_path / "late", signer=OTHER_SIGNER
    )
    cutoff = early.summary.issued_at + 50
    assert early.summary.issued_at < cutoff <= late.summary.issued_at

    # The late batch's key is also reported compromised: the agency's cut-off decides, and both are shown.
    AgencyAdmin(world.registry, OTHER_ADMIN).report_compromised(OTHER_SIGNER.address, late.summary.issued_at)
    world.governor.revoke_agency(agency_id, cutoff, reason=9)

    assert world.registry.agency(agency_id).state is AgencyState.REVOKED
    early_files, late_files = documents_in(tmp_path / "early", "SHA"), documents_in(tmp_path / "late", "SHB")
    reports = verify_documents(world.registry, [p.read_bytes() for p in early_files + late_files])
    for report in reports[:3]:
        assert_valid(report)
        assert "falls after this credential" in report.step("agency-standing").reason
    for report in reports[3:]:
        # Revocation outranks suspension on the ledger, so whether it is also suspended is not known.
        assert_fails_at(
            report, "agency-revoked", "agency-standing", unknown=["not-revoked"], also_failing=["signer"]
        )
        assert "cut-off" in report.step("agency-standing").reason
    other_agency = verify_document(world.registry, issued.batch_files[3].read_bytes())
    assert_valid(other_agency)
    with pytest.raises(ConfigError, match="is revoked: it cannot issue"):
        world.issue(
            sample_results(tmp_path / "after.csv", 2, prefix="SHC"), tmp_path / "after", signer=OTHER_SIGNER
        )


def test_a_compromised_signer_voids_what_it_signed_from_the_reported_time_on(
    issued: Issued, tmp_path: Path
) -> None:
    world = issued.world
    world.admin.add_signer(world.agency_id, SECOND_SIGNER.address, world.now() - DAY)
    before = world.issue(
        sample_results(tmp_path / "a.csv", 4, prefix="KA"), tmp_path / "a", signer=SECOND_SIGNER
    )
    world.next_block_at(before.summary.issued_at + 100)
    after = world.issue(
        sample_results(tmp_path / "b.csv", 4, prefix="KB"), tmp_path / "b", signer=SECOND_SIGNER
    )

    since = before.summary.issued_at + 50
    assert before.summary.issued_at < since <= after.summary.issued_at

    world.admin.report_compromised(SECOND_SIGNER.address, since)

    files = documents_in(tmp_path / "a", "KA") + documents_in(tmp_path / "b", "KB")
    reports = verify_documents(world.registry, [p.read_bytes() for p in files])
    for report in reports[:4]:
        assert_valid(report)
    for report in reports[4:]:
        assert_fails_at(report, "signer-compromised", "signer", unknown=["not-revoked"])
        assert "reported compromised since" in report.step("signer").reason
    assert_valid(verify_document(world.registry, issued.batch_files[4].read_bytes()))  # the other key's batch


def test_a_credential_expires_at_the_end_of_its_valid_until_day(issued: Issued, tmp_path: Path) -> None:
    world = issued.world
    today = chain_date(world.now())
    rows = sample_rows(2, issue_date=today - timedelta(days=30), prefix="EX")
    for row in rows:
        row["valid_until"] = today.isoformat()
    outcome = world.issue(write_rows(tmp_path / "expiring.csv", rows), tmp_path / "expiring")
    files = documents_in(tmp_path / "expiring", "EX")
    change_status(world, files[1], StatusAction.SUSPEND, reason=5)
    assert verify_document(world.registry, files[0].read_bytes()).code == "valid"

    end = expiry_timestamp(today)
    assert outcome.summary.valid_until == end
    world.mine_at(end)

    expired, expired_and_suspended = verify_documents(world.registry, [p.read_bytes() for p in files])
    assert_fails_at(expired, "expired", "not-expired", unknown=["not-revoked"])
    # Expiry outranks suspension: the report must not claim the suspended one is "not suspended".
    assert_fails_at(expired_and_suspended, "expired", "not-expired", unknown=["not-revoked"])
    assert world.registry.credential_status(*position(files[1])).verdict is Verdict.EXPIRED
    assert_valid(verify_document(world.registry, issued.batch_files[5].read_bytes()))  # valid until 2029
