"""The command line as its people meet it, on a real anvil chain: an agency clerk confirming what they are
about to issue, a governor reading back the windows they set, an employer checking a folder of files
against a registry they never deployed, and contract refusals in plain words."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from lifecycle_support import (
    GOVERNOR,
    OTHER_ADMIN,
    OTHER_SIGNER,
    SECOND_SIGNER,
    SIGNER,
    Cli,
    World,
    documents_in,
    load,
    sample_results,
    set_up_registry,
)

from credreg.chain.devchain import ephemeral_chain
from credreg.chain.eip712 import StatusAction
from credreg.registry import AgencyAdmin, Relayer

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Desk:
    world: World
    cli: Cli
    workdir: Path
    url: str
    batch: list[Path]  # issued by agency 1; the first is revoked, the rest valid


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    workdir = tmp_path_factory.mktemp("people")
    with ephemeral_chain() as chain:
        world = set_up_registry(chain.url)
        world.registry.manifest.save(workdir / "data" / "deployment.json")
        world.issue(sample_results(workdir / "issued.csv", 4, prefix="OK"), workdir / "issued")
        batch = documents_in(workdir / "issued", "OK")
        first = load(batch[0])["signature"]
        signed = world.registry.sign_status_change(
            SIGNER, world.agency_id, "0x" + first["merkleRoot"], "0x" + first["targetHash"],
            ["0x" + p for p in first["proof"]], StatusAction.REVOKE, 3,
        )  # fmt: skip
        Relayer(world.registry, GOVERNOR).set_status(signed)
        cli = Cli(
            workdir,
            {
                "CREDREG_DATA_DIR": str(workdir / "data"),
                "CREDREG_RPC_URL": chain.url,
                "CREDREG_PROJECT_ROOT": str(ROOT),
                "COLUMNS": "200",
            },
        )
        yield Desk(world, cli, workdir, chain.url, batch)


# --- issuing: say who issues what, and ask -------------------------------------------------------------


def test_issue_without_a_terminal_or_yes_refuses_and_sends_nothing(desk: Desk) -> None:
    results = sample_results(desk.workdir / "ask.csv", 3, prefix="ASK", seed=11)
    roots_before = desk.world.registry.head()
    ran = desk.cli.fails(2, "issue", str(results), "--out", "ask", "--dev-account", "2")
    assert "Beijing Digital Skills Centre" in ran.text  # what would have been issued is shown first
    assert "--yes" in ran.text
    assert ran.text.index("无法在此确认") < ran.text.index("pass --yes")
    assert not (desk.workdir / "ask").exists()
    assert desk.world.registry.head() == roots_before


def test_dry_run_shows_agency_scope_count_and_validity_and_sends_nothing(desk: Desk) -> None:
    results = sample_results(desk.workdir / "dry.csv", 5, prefix="DRY", seed=12, valid_years=5)
    head = desk.world.registry.head()
    shown = desk.cli.ok("issue", str(results), "--out", "dry", "--dry-run", "--dev-account", "2").text
    assert "agency: 1 Beijing Digital Skills Centre" in shown
    assert "4-04-05-06/3 三级/高级工" in shown
    assert "Blockchain engineering technician" in shown
    assert "count: 5 张证书 / certificates" in shown
    assert "2031-06-30" in shown
    assert "2031-07-01 00:00:00 Asia/Shanghai (+08:00)" in shown
    assert "nothing was sent" in shown
    assert not (desk.workdir / "dry").exists()
    assert desk.world.registry.head() == head


def test_a_key_of_another_agency_shows_that_agencys_name(desk: Desk) -> None:
    governor = desk.world.governor
    other = governor.register_agency("Shanghai Skills Centre", "SH-0009", OTHER_ADMIN.address)
    since = desk.world.registry.block_time() - 86_400
    governor.accredit(other, desk.world.scope_id, since)
    AgencyAdmin(desk.world.registry, OTHER_ADMIN).add_signer(other, OTHER_SIGNER.address, since)
    results = sample_results(desk.workdir / "wrong.csv", 2, prefix="WRONG", seed=13)
    shown = desk.cli.ok("issue", str(results), "--out", "wrong", "--dry-run", "--dev-account", "5").text
    assert f"agency: {other} Shanghai Skills Centre" in shown
    assert "Beijing" not in shown


def test_yes_issues_after_showing_the_same(desk: Desk) -> None:
    results = sample_results(desk.workdir / "yes.csv", 2, prefix="YES", seed=14)
    ran = desk.cli.ok("issue", "--yes", str(results), "--out", "yes", "--dev-account", "2").text
    assert ran.index("about to issue") < ran.index("issued 2 certificate(s) under root 0x")
    assert len(documents_in(desk.workdir / "yes", "YES")) == 2


# --- windows are echoed in local time ------------------------------------------------------------------


def test_accrediting_and_withdrawing_echo_the_stored_window_in_local_time(desk: Desk) -> None:
    cli = desk.cli
    defined = cli.ok("scope", "define", "2-02-10-09", "2", "人工智能工程技术人员 二级", "--dev-account", "0")
    assert "2-02-10-09/2 (二级/技师 / level 2, technician)" in defined.text
    accredited = cli.ok(
        "agency", "accredit", "1", "2-02-10-09/2", "--from", "2026-01-01", "--until", "2029-01-01T09:30",
        "--dev-account", "0",
    ).text  # fmt: skip
    assert "from 2026-01-01 00:00:00 Asia/Shanghai (+08:00)" in accredited
    assert "until 2029-01-01 09:30:00 Asia/Shanghai (+08:00)" in accredited
    in_utc = cli.ok(
        "--tz", "UTC", "agency", "accredit", "1", "2-02-10-09/2", "--from", "2026-01-01", "--dev-account", "0"
    ).text
    assert "from 2026-01-01 00:00:00 UTC (+00:00)" in in_utc
    assert "no end" in in_utc
    window = desk.world.registry.accreditation(1, desk.world.registry.scope_id_at(2))
    assert window.valid_from == 1767225600  # 2026-01-01T00:00:00Z: the zone given was the one used
    withdrawn = cli.ok("agency", "withdraw", "1", "2-02-10-09/2", "--dev-account", "0").text
    assert "on the ledger" in withdrawn
    assert "Asia/Shanghai" in withdrawn


def test_a_scope_defined_by_mistake_is_retired_and_takes_no_accreditation(desk: Desk) -> None:
    cli = desk.cli
    cli.ok("scope", "define", "2-02-10-08", "4", "定义错误的范围 defined by mistake", "--dev-account", "0")
    retired = cli.ok("--tz", "UTC", "scope", "retire", "2-02-10-08/4", "--dev-account", "0").text
    assert "scope retired: 2-02-10-08/4" in retired
    assert "UTC" in retired
    listed = cli.ok("scope", "list").text
    assert "2-02-10-08/4" in listed
    refused = cli.fails(
        2, "agency", "accredit", "1", "2-02-10-08/4", "--from", "2026-01-01", "--dev-account", "0"
    ).text
    assert "此职业范围已被主管部门停用" in refused
    assert "AccreditationRegistryScopeRetired" in refused
    again = cli.fails(2, "scope", "retire", "2-02-10-08/4", "--dev-account", "0").text
    assert "AccreditationRegistryScopeRetired" in again


def test_signer_changes_echo_the_stored_window(desk: Desk) -> None:
    cli, key = desk.cli, SECOND_SIGNER.address
    added = cli.ok("signer", "add", "1", key, "--until", "2030-01-01T09:00+08:00", "--dev-account", "1").text
    assert "until 2030-01-01 09:00:00 Asia/Shanghai (+08:00)" in added
    reported = cli.ok("signer", "compromised", key, "--dev-account", "1").text
    assert "compromised since" in reported
    assert "Asia/Shanghai" in reported
    assert "credreg signer add" in reported  # what to do next


def test_a_contract_refusal_is_said_in_plain_words_and_the_raw_error_is_kept(desk: Desk) -> None:
    ran = desk.cli.fails(2, "scope", "define", "4-04-05-02", "1", "Not the governor", "--dev-account", "1")
    assert "此账户不是主管部门（governor）账户，请使用主管部门的密钥" in ran.text
    assert "this account is not the governor; use the governor's key" in ran.text
    assert "OwnableUnauthorizedAccount" in ran.text
    assert ran.text.index("此账户") < ran.text.index("this account")
    again = desk.cli.fails(2, "signer", "retire", SIGNER.address, "--dev-account", "4")
    assert "此账户不是该评价机构的管理员账户，请使用该机构管理员的密钥" in again.text
    assert "AccreditationRegistryUnauthorized" in again.text


# --- employers: a folder of files, a registry they never deployed -------------------------------------


def test_a_folder_is_verified_with_invalid_files_first_a_tally_and_summaries_skipped(desk: Desk) -> None:
    files = sorted(str(p) for p in (desk.workdir / "issued").glob("*.json"))
    assert any("batch-" in f for f in files)  # the issuance's summary sits among the certificates
    ran = desk.cli.fails(1, "verify", *files)
    lines = [line for line in ran.out.splitlines() if line.strip()]
    assert lines[0].startswith("INVALID")
    assert desk.batch[0].name in lines[0]
    assert "已撤销 / The credential was revoked." in lines[0]
    assert "skipped" in ran.text
    assert "batch summary" in ran.text
    assert "total 4: 有效 / valid 3, 无效 / invalid 1, 错误 / errors 0, 跳过 / skipped 1" in ran.text
    assert "1 revoked 已撤销 / revoked" in ran.text
    assert ran.err == ""  # no progress bar when stderr is not a terminal
    reports = desk.cli.json("verify", *files, code=1)
    assert [r["code"] for r in reports] == ["revoked", "valid", "valid", "valid", "batch-summary"]


def test_a_certificate_of_an_agency_suspended_since_is_valid_with_a_note(desk: Desk) -> None:
    cli, valid = desk.cli, str(desk.batch[1])
    cli.ok("agency", "suspend", "1", "--reason", "12", "--dev-account", "0")
    try:
        human = cli.ok("verify", valid).text
        assert "VALID" in human
        assert "颁发机构目前处于暂停状态；本证书颁发时该机构正常运营" in human
        assert "the issuing agency is suspended now; this certificate was issued while it was active" in human
        (report,) = cli.json("verify", valid)
        assert report["verdict"] == "valid"
        assert [n["code"] for n in report["notes"]] == ["agency-suspended"]
        assert report["agency"]["state"] == "suspended"
    finally:
        cli.ok("agency", "reinstate", "1", "--dev-account", "0")
    (after,) = cli.json("verify", valid)
    assert after["notes"] == []


def _elsewhere(desk: Desk, tmp_path: Path) -> Cli:
    """An employer's machine: another directory, no data directory, no ledger settings."""
    return Cli(tmp_path, {"CREDREG_DATA_DIR": str(tmp_path / "nothing-here"), "COLUMNS": "200"})


def test_an_employer_verifies_from_anywhere_with_a_trust_list(desk: Desk, tmp_path: Path) -> None:
    employer = _elsewhere(desk, tmp_path)
    trust = {
        "credreg_trust_list": 1,
        "chain_id": 31337,
        "registry": desk.world.registry.address,
        "rpc_urls": ["http://127.0.0.1:9", desk.url],  # the first does not answer; the next is tried
    }
    (tmp_path / "trust.json").write_text(json.dumps(trust))
    valid = str(desk.batch[1])
    assert "VALID" in employer.ok("verify", valid, "--registry", "trust.json").text
    (tmp_path / "only-99.json").write_text(json.dumps(trust | {"agencies": [99]}))
    (report,) = employer.json("verify", valid, "--registry", "only-99.json", code=1)
    assert report["code"] == "agency-not-trusted"
    (tmp_path / "other.json").write_text(json.dumps(trust | {"registry": "0x" + "12" * 20}))
    refused = employer.fails(2, "verify", valid, "--registry", "other.json")
    assert "deploy" not in refused.text.lower()


def test_disclose_list_shows_readable_names_paths_and_values(desk: Desk) -> None:
    from credreg.documents.canonical import unsalt_value

    document = load(desk.batch[2])
    id_number = unsalt_value(document["data"]["recipient"]["idNumber"])
    listed = desk.cli.ok("disclose", str(desk.batch[2]), "--list").text
    assert f"身份证号 / ID number recipient.idNumber {id_number}" in listed
    assert "姓名 / name recipient.name" in listed
    desk.cli.ok("disclose", str(desk.batch[2]), "--hide", "recipient.idNumber", "--out", "hidden.json")
    again = desk.cli.ok("disclose", "hidden.json", "--list").text
    assert "身份证号 / ID number recipient.idNumber 已隐藏 / hidden" in again
    assert str(id_number) not in again


def test_progress_can_be_asked_for_without_a_terminal(desk: Desk) -> None:
    files = [str(p) for p in desk.batch[1:]]
    ran = desk.cli.ok("verify", "--progress", *files)
    assert "total 3: 有效 / valid 3" in ran.text


class _Terminal(io.StringIO):
    """Typed answers on a standard input that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("answer", "code"), [("n\n", 1), ("y\n", 0)])
def test_at_a_terminal_issue_asks_and_sends_only_on_yes(
    desk: Desk, answer: str, code: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = sample_results(desk.workdir / f"tty-{code}.csv", 2, prefix=f"TTY{code}X", seed=20 + code)
    monkeypatch.setattr(sys, "stdin", _Terminal(answer))
    ran = desk.cli.fails(code, "issue", str(results), "--out", f"tty-{code}", "--dev-account", "2")
    assert "确认颁发？/ Issue these certificates?" in ran.text
    if code:
        assert "cancelled: nothing was sent" in ran.text
        assert not (desk.workdir / f"tty-{code}").exists()
    else:
        assert len(documents_in(desk.workdir / f"tty-{code}", f"TTY{code}X")) == 2


def test_verify_shows_the_reasons_times_in_the_configured_zone(desk: Desk) -> None:
    revoked = str(desk.batch[0])
    (report,) = desk.cli.json("verify", revoked, code=1)
    step = next(s for s in report["steps"] if s["name"] == "not-revoked")
    assert " UTC " in step["reason"]  # the report itself keeps one zone for every reader
    (since,) = step["times"]
    shanghai = desk.cli.fails(1, "verify", revoked).text
    assert "UTC" not in shanghai
    assert datetime.fromtimestamp(since, ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M:%S") in shanghai
    assert "Asia/Shanghai (+08:00)" in shanghai
    london = desk.cli.fails(1, "--tz", "Europe/London", "verify", revoked).text
    assert datetime.fromtimestamp(since, ZoneInfo("Europe/London")).strftime("%Y-%m-%d %H:%M:%S") in london
    assert "Europe/London" in london


def test_an_audit_given_the_batch_summaries_counts_and_names_the_certificates(
    desk: Desk, tmp_path: Path
) -> None:
    out = tmp_path / "audit"
    desk.cli.ok("audit", "replay", "--no-recompile", "--no-provenance", "--batches", "issued",
                "--csv-dir", str(out), "--json", str(out / "report.json"))  # fmt: skip
    with (out / "credentials.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = {r["哈希 / hash"]: r for r in csv.DictReader(fh)}
    revoked = load(desk.batch[0])
    root = "0x" + revoked["signature"]["merkleRoot"]
    assert rows[root]["类别 / kind"] == "批次 / batch"
    assert rows[root]["证书数 / certificates"] == "4"
    for document in desk.batch:
        wrapped = load(document)
        row = rows["0x" + wrapped["signature"]["targetHash"]]
        assert row["类别 / kind"] == "证书 / certificate"
        assert row["证书编号 / certificate number"] == wrapped["data"]["id"].split(":", 2)[2]
        assert row["批次根 / batch root"] == root
    first = rows["0x" + revoked["signature"]["targetHash"]]
    assert first["状态 / status"] == "已撤销 / revoked"
    assert first["原因 / reason"].startswith("3 ")
    assert first["结论代码 / verdict code"] == "leaf-revoked"
    assert {
        rows["0x" + load(d)["signature"]["targetHash"]]["结论代码 / verdict code"] for d in desk.batch[1:]
    } == {"valid"}
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    (agency,) = [a for a in report["agencies"] if a["agency_id"] == desk.world.agency_id]
    assert agency["batches_with_known_certificates"] == 1
    assert agency["certificates_known"] == 4
    assert report["totals"]["certificates_known"] == 4
    assert report["totals"]["batches_with_known_certificates"] == 1


def test_an_audit_leaves_out_a_summary_whose_leaves_do_not_build_its_root(desk: Desk, tmp_path: Path) -> None:
    forged = tmp_path / "forged"
    forged.mkdir()
    (summary,) = (desk.workdir / "issued").glob("batch-*.json")
    body = json.loads(summary.read_text(encoding="utf-8"))
    body["leaves"] = body["leaves"][:-1]  # one certificate left out: the rest cannot build the root
    (forged / summary.name).write_text(json.dumps(body), encoding="utf-8")
    ran = desk.cli.ok("audit", "replay", "--no-recompile", "--no-provenance", "--batches", str(forged),
                      "--json", str(tmp_path / "report.json"))  # fmt: skip
    assert "not its root" in ran.text
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["totals"]["certificates_known"] == 0
