"""People read words, not codes: every contract error, reason, level, field and verdict has them, in both
languages."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from credreg.documents.layout import PROTECTED_FIELDS, hideable_fields
from credreg.documents.model import CERTIFICATE_KINDS, SKILL_LEVEL_TITLES
from credreg.labels import (
    CODES,
    CONTRACT_ERRORS,
    FIELD_LABELS,
    KIND_NAMES,
    LEDGER_VERDICTS,
    LEVEL_NAMES,
    REASON_CODES,
    STEP_REASONS,
    STEPS,
    VERDICTS,
    Words,
    contract_error_words,
    labels_document,
    level_words,
    reason_words,
)
from credreg.registry import Verdict
from credreg.vc.verify import _SUMMARIES as VC_SUMMARIES
from credreg.verify import _SUMMARIES
from credreg.verify import STEPS as VERIFY_STEPS

ARTIFACTS = Path(__file__).resolve().parents[2] / "src" / "credreg" / "chain" / "artifacts"
CJK = range(0x4E00, 0xA000)


def abi_errors() -> list[tuple[str, str]]:
    found = []
    for path in sorted(ARTIFACTS.glob("*.json")):
        abi = json.loads(path.read_text(encoding="utf-8"))["abi"]
        found += [(path.name, entry["name"]) for entry in abi if entry.get("type") == "error"]
    return found


def is_bilingual(words: Words) -> bool:
    english_only = not any(ord(c) in CJK for c in words.en)
    return any(ord(c) in CJK for c in words.zh) and english_only and bool(words.en.strip())


def test_the_compiled_artifacts_declare_errors() -> None:
    assert len(abi_errors()) >= 30  # the test below must have something to check


@pytest.mark.parametrize(("artifact", "name"), abi_errors())
def test_every_contract_error_has_plain_words(artifact: str, name: str) -> None:
    assert name in CONTRACT_ERRORS, f"{artifact}: {name} has no entry in credreg.labels.CONTRACT_ERRORS"
    assert is_bilingual(CONTRACT_ERRORS[name])


def test_the_governor_error_says_to_use_the_governors_key() -> None:
    words = contract_error_words("OwnableUnauthorizedAccount")
    assert words.zh == "此账户不是主管部门（governor）账户，请使用主管部门的密钥"
    assert words.en == "this account is not the governor; use the governor's key"
    assert str(words).index("主管部门") < str(words).index("governor's key")
    assert "SomethingNew" in contract_error_words("SomethingNew").en


def test_reason_codes_are_words_and_unknown_codes_are_named() -> None:
    assert all(is_bilingual(w) for w in REASON_CODES.values())
    assert REASON_CODES[0].en == "no reason given"
    assert reason_words(4242) == Words("原因代码 4242", "reason code 4242")


@pytest.mark.parametrize("kind", CERTIFICATE_KINDS)
def test_every_kind_names_levels_1_to_5_and_every_field_a_holder_sees(kind: str) -> None:
    assert sorted(LEVEL_NAMES[kind]) == [1, 2, 3, 4, 5]
    assert is_bilingual(KIND_NAMES[kind])
    for path in hideable_fields(kind):  # type: ignore[arg-type]
        assert is_bilingual(FIELD_LABELS[path]), path


def test_protected_fields_have_labels_and_the_id_number_is_called_so() -> None:
    leaves = [f for f in PROTECTED_FIELDS if f.startswith("credreg.") and f != "credreg.version"]
    assert all(f in FIELD_LABELS for f in leaves)
    assert FIELD_LABELS["recipient.idNumber"] == Words("身份证号", "ID number")


def test_every_verdict_code_has_words() -> None:
    assert set(_SUMMARIES) <= set(VERDICTS)
    assert all(is_bilingual(w) for w in VERDICTS.values())


def test_the_tables_serve_labels_document() -> None:
    served = json.loads(json.dumps(labels_document(), ensure_ascii=False))
    assert served["contract_errors"]["OwnableUnauthorizedAccount"]["en"].startswith("this account")
    assert served["levels"]["skill_level"]["5"]["zh"] == "五级/初级工"
    assert served["reason_codes"]["3"]["zh"] == "考核舞弊"
    assert served["notes"]["agency-suspended"]["zh"].startswith("颁发机构目前处于暂停状态")


def test_every_step_code_and_ledger_verdict_has_words() -> None:
    assert set(STEPS) == {name for name, _ in VERIFY_STEPS}
    assert set(_SUMMARIES) <= set(CODES)
    assert set(VC_SUMMARIES) <= set(CODES), "the VC forms' verdicts have words too"
    assert set(VC_SUMMARIES) <= set(VERDICTS)
    assert {v.label for v in Verdict} == set(LEDGER_VERDICTS)
    # The English step titles are the library's own, word for word.
    assert {name: label.en for name, label in STEPS.items()} == dict(VERIFY_STEPS)


def test_skill_levels_are_the_national_titles() -> None:
    assert {n: label.zh for n, label in LEVEL_NAMES["skill_level"].items()} == SKILL_LEVEL_TITLES
    assert level_words(5).zh == "五级/初级工"
    assert level_words(3, "technical_grade").zh == "中级"
    assert level_words(9).en == "level 9"


@pytest.mark.parametrize(("pattern", "label"), STEP_REASONS, ids=[p for p, _ in STEP_REASONS])
def test_step_reason_templates_name_only_groups_their_pattern_has(pattern: str, label: Words) -> None:
    groups = re.compile(pattern).groups
    for template in label:
        for index in re.findall(r"\{(?:kind|level|state|which|reason|through)?(\d+)\}", template):
            assert 1 <= int(index) <= groups, (pattern, template)
        assert not re.search(r"\{(?!(?:kind|level|state|which|reason|through)?\d+\})", template), template


def test_step_reasons_match_what_verify_writes() -> None:
    samples = {
        "skill level certificate, OpenAttestation v2": "{kind1}，OpenAttestation v2 格式",
        "this document was revoked at 2026-11-29 05:00:00 UTC (reason code 1)": "{which1}于 {2} 被撤销（原因：{reason3}）",
        "valid until 2029-06-30 16:00:00 UTC": "有效期至 {through1}",
    }
    for reason, expected in samples.items():
        matched = [label.zh for pattern, label in STEP_REASONS if re.search(pattern, reason)]
        assert matched == [expected], reason
    document = labels_document("Asia/Shanghai")
    assert document["time_zone"] == "Asia/Shanghai"
    assert len(document["step_reasons"]) == len(STEP_REASONS)
    assert document["reasons"] == document["reason_codes"], "one table of reason codes"


def test_reasons_that_list_differences_and_a_suspended_agency_have_words() -> None:
    samples = {
        "agency is suspended now; it was active when it issued this credential": "机构目前已暂停；签发本证书时机构处于正常状态",
        "agency 2 in the document, 1 on the ledger": "证书上为机构 {1}，账本上为机构 {2}",
        f"scope 0x{'ab' * 32} in the document, 0x{'cd' * 32} on the ledger": "证书上的职业范围为 {1}，账本上为 {2}",
        "valid until 2029-06-30 16:00:00 UTC in the document, never on the ledger": "证书上的有效期至 {1}，账本上为 {2}",
    }
    for reason, expected in samples.items():
        matched = [label.zh for pattern, label in STEP_REASONS if re.search(pattern, reason)]
        assert matched == [expected], reason
