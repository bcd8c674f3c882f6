"""Replaying a real history: the rebuilt state equals the contract's views, at the head and at any point."""

from __future__ import annotations

import csv
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from audit_ledger import History

from credreg.audit import audit_credential, build_report, render
from credreg.chain.states import Verdict
from credreg.cli import main
from credreg.errors import ConfigError
from credreg.labels import AUDIT_SENTENCES, reason_words

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_replay_equals_the_contract_views_for_every_record(history: History) -> None:
    report = build_report(history.registry, recompile=False, include_records=True)
    assert report.clean, [str(f) for f in report.findings]
    assert report.views is not None
    assert report.views.complete
    assert not report.views.mismatched
    compared = report.views.compared
    # every root once, plus agency B's own record of agency A's single root (the same hash, B's namespace)
    assert compared["roots"] == compared["verdicts"] == len(history.roots) + 1 == report.totals.roots
    assert compared["targets"] == report.totals.targets == 6
    assert compared["issuer keys"] == 2
    assert compared["agencies"] == 2
    assert compared["signers"] == 8
    assert compared["accreditations"] == 3
    assert report.totals.events == report.digest.event_count == sum(report.totals.events_by_name.values())
    # the verdicts the history was built to produce, computed from events alone and confirmed by the views
    verdicts = {(r.agency_id, r.root): r.verdict for r in report.roots or []}
    assert verdicts[(1, history.roots["single_a"])] == "valid"
    assert verdicts[(2, history.roots["single_a"])] == "agency-revoked", "B's squat is B's record, not A's"
    assert verdicts[(2, history.roots["single_b"])] == "root-revoked"
    assert verdicts[(2, history.roots["compromised_b"])] == "agency-revoked"
    assert verdicts[(1, history.roots["expiring_a"])] == "expired"
    agencies = {a.agency_id: a for a in report.agencies}
    assert agencies[2].state == "revoked"
    assert agencies[2].roots_issued == 3
    assert agencies[1].status_changes == {
        "reinstate by agency": 1, "reinstate by governor": 1, "revoke by agency": 1,
        "suspend by agency": 2, "suspend by governor": 1,
    }  # fmt: skip
    assert report.governor == history.accounts[7].address
    assert report.pending_governor is None
    assert report.provenance is not None
    assert report.provenance.ok


def test_state_at_an_earlier_block_equals_the_views_at_that_block(history: History) -> None:
    block = history.blocks["before_b_revoked"]
    report = build_report(history.registry, at_block=block, provenance=False)
    assert report.clean, [str(f) for f in report.findings]
    assert report.through_block == block
    assert report.views is not None
    assert report.views.block == block
    agencies = {a.agency_id: a for a in report.agencies}
    assert agencies[2].state == "active"  # revoked only later
    assert report.governor == history.accounts[0].address
    assert (
        report.digest.digest != build_report(history.registry, compare=False, provenance=False).digest.digest
    )


def test_state_at_a_date_takes_the_last_block_before_it(history: History) -> None:
    moment = history.times["before_leaf_revoked"]
    report = build_report(history.registry, at_time=moment, compare=False, provenance=False)
    assert report.through_time <= moment
    assert report.through_block < history.blocks["revoke_leaf"]
    assert report.report_time == moment
    with pytest.raises(ConfigError, match="before the registry's deployment"):
        build_report(history.registry, at_time=1_000_000, compare=False, provenance=False)
    with pytest.raises(ConfigError, match="not on the chain yet"):
        build_report(history.registry, at_block=10**9, compare=False, provenance=False)


def test_was_a_certificate_valid_on_a_date(history: History) -> None:
    batch = history.batch
    leaf = batch.leaves[3]
    answer = audit_credential(
        history.registry,
        leaf,
        root=batch.root,
        proof=batch.proof(leaf),
        at_time=history.times["before_leaf_revoked"],
    )
    assert answer.then.valid
    assert answer.then.verdict == "valid"
    assert answer.now.verdict == Verdict.LEAF_REVOKED.label
    assert answer.now.reason == 7
    assert [h.event for h in answer.history] == ["CredentialIssued", "CredentialStatusChanged"]
    # the sibling leaf sits under the suspended node
    other = batch.leaves[0]
    answer = audit_credential(
        history.registry,
        other,
        root=batch.root,
        proof=batch.proof(other),
        at_time=history.times["before_b_revoked"],
    )
    assert answer.then.verdict == "node-suspended"
    assert not answer.then.valid
    wrong = audit_credential(
        history.registry,
        other,
        root=batch.root,
        proof=batch.proof(leaf),
        at_time=history.times["before_b_revoked"],
    )
    assert wrong.then.verdict == "invalid-proof"


def test_later_revocation_with_an_earlier_cut_off_is_flagged_as_retroactive(history: History) -> None:
    root = history.roots["compromised_b"]
    before_compromise = audit_credential(history.registry, root, at_time=history.times["before_leaf_revoked"])
    assert before_compromise.then.valid
    assert before_compromise.now.verdict == "agency-revoked"
    assert before_compromise.retroactive is not None
    assert "at or before its issuance" in before_compromise.retroactive
    unknown = audit_credential(history.registry, "0x" + "42" * 32, at_time=history.times["before_b_revoked"])
    assert unknown.then.verdict == "not-issued"
    assert unknown.root is None


def test_csv_exports_open_in_a_spreadsheet(history: History, tmp_path: Path) -> None:
    base = ["--data-dir", str(tmp_path), "--rpc-url", history.chain.url]
    history.registry.manifest.save(tmp_path / "deployment.json")
    out = tmp_path / "out"
    code = main(
        [*base, "audit", "replay", "--no-recompile", "--csv-dir", str(out), "--json", str(out / "r.json")]
    )
    assert code == 0
    raw = (out / "events.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in raw
    with (out / "events.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    report = json.loads((out / "r.json").read_text(encoding="utf-8"))
    assert len(rows) == report["totals"]["events"]
    assert rows[0]["事件代码 / event code"] == "OwnershipTransferred"
    names = {r["名称 / Name"] for r in rows if r["事件代码 / event code"] == "AgencyRegistered"}
    assert names == {"Beijing Digital Skills Assessment Centre", "'=Shanghai Vocational Centre"}
    assert any("人工智能" in r["名称 / Title"] for r in rows if r["事件代码 / event code"] == "ScopeDefined")
    with (out / "credentials.csv").open(encoding="utf-8-sig", newline="") as fh:
        credentials = list(csv.DictReader(fh))
    by_hash = {r["哈希 / hash"]: r for r in credentials}
    assert by_hash[history.roots["single_b"]]["结论代码 / verdict code"] == "root-revoked"
    assert by_hash[history.batch.leaves[3]]["状态 / status"] == "已撤销 / revoked"
    assert {r["类别 / kind"] for r in credentials} == {
        "批次 / batch", "证书或批次的一部分 / certificate or part of a batch"
    }  # fmt: skip
    # Without the agencies' batch summaries nothing says how many certificates a batch holds.
    assert by_hash[history.batch.root]["证书数 / certificates"] == "未知 / unknown"


def test_csv_exports_label_columns_and_say_times_actions_and_reasons_in_words(
    history: History, tmp_path: Path
) -> None:
    base = ["--data-dir", str(tmp_path), "--rpc-url", history.chain.url, "--tz", "Asia/Shanghai"]
    history.registry.manifest.save(tmp_path / "deployment.json")
    out = tmp_path / "out"
    assert main([*base, "audit", "replay", "--no-recompile", "--no-provenance", "--csv-dir", str(out)]) == 0
    with (out / "events.csv").open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        header = list(reader.fieldnames or [])
        rows = list(reader)
    # Every column is labelled in both languages; the time column names its zone.
    assert all(any("\u4e00" <= c <= "\u9fff" for c in h) and " / " in h for h in header), header
    assert "时间 (Asia/Shanghai) / time (Asia/Shanghai)" in header
    first = rows[0]
    moment = int(first["区块时间（Unix 秒） / block time (Unix seconds)"])
    local = datetime.fromtimestamp(moment, ZoneInfo("Asia/Shanghai"))
    assert first["时间 (Asia/Shanghai) / time (Asia/Shanghai)"] == f"{local:%Y-%m-%d %H:%M:%S} +08:00"
    assert first["事件 / event"] == "管理部门移交 / Governor transferred"
    changes = [r for r in rows if r["事件代码 / event code"] == "CredentialStatusChanged"]
    revoke = next(
        r
        for r in changes
        if r["目标哈希 / Target hash"] == history.batch.leaves[3] and r["操作 / Action"].startswith("1")
    )
    assert revoke["操作 / Action"] == "1 撤销 / revoke"
    assert revoke["原因 / Reason"] == f"7 {reason_words(7).zh} / {reason_words(7).en}"
    assert revoke["由管理部门 / By the governor"] == "否 / no"
    assert revoke["起始时间 / Since"].endswith("+08:00")
    with (out / "credentials.csv").open(encoding="utf-8-sig", newline="") as fh:
        credentials = {r["哈希 / hash"]: r for r in csv.DictReader(fh)}
    leaf = credentials[history.batch.leaves[3]]
    assert leaf["原因 / reason"] == f"7 {reason_words(7).zh} / {reason_words(7).en}"
    assert leaf["结论 / verdict"] == "已撤销 / Revoked: this certificate"
    assert leaf["设置者 / set by"] == "机构 1 / agency 1"
    assert leaf["状态起始 (Asia/Shanghai) / status since (Asia/Shanghai)"].endswith("+08:00")


def test_the_printed_throughput_agrees_with_the_time_it_reports(
    history: History, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--data-dir", str(tmp_path), "--rpc-url", history.chain.url, "--tz", "Europe/London"]
    history.registry.manifest.save(tmp_path / "deployment.json")
    assert main([*base, "audit", "replay", "--no-recompile", "--json", str(tmp_path / "r.json")]) == 0
    printed = " ".join(capsys.readouterr().out.split())  # undo the terminal's line wrapping
    line = printed[printed.index("重放 / replayed") :]
    found = re.search(r"replayed ([\d,]+) .*? in ([\d.]+) s \(([\d,.]+) 个/秒", line)
    assert found, line
    events, seconds, rate = (float(g.replace(",", "")) for g in found.groups())
    assert events > 0
    assert seconds > 0
    assert abs(events / seconds - rate) <= 0.05 + rate * 0.001 / seconds, line  # rounding only
    run = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["run"]
    assert abs(run["events_replayed"] / run["replay_seconds"] - run["events_per_second"]) <= 0.05
    # The whole audit (replay, views, code) takes longer than the replay and is said apart from it.
    assert run["seconds"] >= run["replay_seconds"]
    assert f"whole audit {run['seconds']:.3f} s" in line
    assert "time zone Europe/London" in printed
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0[01]:00", printed)
    assert "UTC" not in printed


def test_cli_replay_resumes_and_prints_findings_first(
    history: History, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--data-dir", str(tmp_path), "--rpc-url", history.chain.url]
    history.registry.manifest.save(tmp_path / "deployment.json")
    assert (
        main([*base, "audit", "replay", "--no-recompile", "--at-block", str(history.blocks["revoke_leaf"])])
        == 0
    )
    first = capsys.readouterr().out
    assert "no findings" in first
    assert "digest 0x" in first
    checkpoints = list((tmp_path / "audit").glob("checkpoint-*.json"))
    assert len(checkpoints) == 1
    assert (
        main(
            [
                *base,
                "audit",
                "replay",
                "--no-recompile",
                "--from-checkpoint",
                str(checkpoints[0]),
                "--json",
                "-",
            ]
        )
        == 0
    )
    resumed = json.loads(capsys.readouterr().out)
    assert resumed["run"]["resumed_from_block"] == history.blocks["revoke_leaf"]
    whole = build_report(history.registry, compare=False, provenance=False)
    assert resumed["digest"]["digest"] == whole.digest.digest
    # going back before a checkpoint is refused, not silently wrong
    code = main([*base, "audit", "replay", "--from-checkpoint", str(checkpoints[0]), "--at-block", "3"])
    assert code == 2
    assert "already past block 3" in capsys.readouterr().err


def test_cli_status_answers_for_a_hash_with_its_proof(
    history: History, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--data-dir", str(tmp_path), "--rpc-url", history.chain.url]
    history.registry.manifest.save(tmp_path / "deployment.json")
    leaf = history.batch.leaves[3]
    proof = history.batch.proof(leaf)
    args = [
        *base,
        "audit",
        "status",
        leaf,
        "--root",
        history.batch.root,
        *[arg for p in proof for arg in ("--proof", p)],
    ]
    before = datetime.fromtimestamp(history.times["before_leaf_revoked"], UTC).isoformat()
    assert main([*args, "--at", before]) == 0
    assert "VALID" in capsys.readouterr().out
    assert main([*args, "--json"]) == 1
    answer = json.loads(capsys.readouterr().out)
    assert answer["then"]["verdict"] == "leaf-revoked"
    assert main([*base, "audit", "status", "0x1234"]) == 2
    assert "not a 32-byte hex hash" in capsys.readouterr().err


def test_cli_status_prints_each_sentence_in_chinese_then_english(
    history: History, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--data-dir", str(tmp_path), "--rpc-url", history.chain.url]
    history.registry.manifest.save(tmp_path / "deployment.json")
    leaf = history.batch.leaves[3]
    args = [*base, "audit", "status", leaf, "--root", history.batch.root]
    args += [arg for p in history.batch.proof(leaf) for arg in ("--proof", p)]
    before = datetime.fromtimestamp(history.times["before_leaf_revoked"], UTC).isoformat()
    assert main([*args, "--at", before]) == 0
    printed = "".join(capsys.readouterr().out.split())  # undo the terminal's line wrapping
    assert main([*args, "--at", before, "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    # The machine output is the English report as before: no Chinese field leaks into it.
    assert set(answer) == {
        "hash", "root", "proof", "at_time", "at_block", "then", "now", "retroactive", "record", "history",
        "through_block", "digest",
    }  # fmt: skip
    assert set(answer["then"]) == {"verdict", "valid", "target", "reason", "since", "explanation"}
    assert set(answer["history"][0]) == {
        "block",
        "time",
        "event",
        "transaction_hash",
        "log_index",
        "text",
        "args",
    }
    expected: list[tuple[str, str]] = []
    for moment, said in ((answer["at_time"], answer["then"]), (0, answer["now"])):
        verdict = next(v for v in Verdict if v.label == said["verdict"])
        fields = {"target": said["target"], "reason": said["reason"], "since": said["since"]}
        zh = render.answer_text(verdict, moment, **fields, lang="zh")
        if verdict in (Verdict.VALID, Verdict.NOT_ISSUED):  # the only sentences that name the moment asked
            assert said["explanation"] == render.answer_text(verdict, moment, **fields)
        expected.append((zh, said["explanation"]))
    assert len(answer["history"]) == 2
    for item in answer["history"]:
        expected.append((render.credential_text(item["event"], item["args"], "zh"), item["text"]))
    for zh, en in expected:
        assert CJK.search(zh), zh
        assert "".join(f"{zh} / {en}".split()) in printed, (zh, en)
    # A credential voided back to its issuance says so in both languages too.
    root = history.roots["compromised_b"]
    at = datetime.fromtimestamp(history.times["before_leaf_revoked"], UTC).isoformat()
    assert main([*base, "audit", "status", root, "--at", at]) == 0  # valid then: its exit code says so
    printed = "".join(capsys.readouterr().out.split())
    ending = AUDIT_SENTENCES["retroactive"].zh.rsplit("}", 1)[1]
    assert CJK.search(ending)
    assert ending in printed
    assert "itcountsasinvalidfromissuanceon" in printed


def test_the_service_call_resumes_from_its_checkpoint(history: History, tmp_path: Path) -> None:
    checkpoint = tmp_path / "audit" / "checkpoint.json"
    first = build_report(history.registry, checkpoint=checkpoint, resume=True, provenance=False)
    assert first.run.resumed_from_block is None
    again = build_report(history.registry, checkpoint=checkpoint, resume=True, provenance=False)
    assert again.run.resumed_from_block == first.through_block
    assert again.run.events_replayed == 0
    assert again.digest == first.digest
    assert again.model_dump(exclude={"run"}) == first.model_dump(exclude={"run"})
    earlier = build_report(
        history.registry,
        at_block=history.blocks["revoke_leaf"],
        checkpoint=checkpoint,
        resume=True,
        provenance=False,
    )
    assert earlier.run.resumed_from_block is None
    assert any("past block" in note for note in earlier.run.notes)
    latest = build_report(history.registry, checkpoint=checkpoint, resume=True, provenance=False)
    assert latest.run.resumed_from_block == first.through_block  # the earlier replay did not overwrite it
