"""The words table: complete for what the library reports, and its step-reason patterns usable by the page."""

from __future__ import annotations

import re

import pytest

from credreg.documents.model import SKILL_LEVEL_TITLES
from credreg.labels import (
    CODES,
    LEDGER_VERDICTS,
    LEVELS,
    STEP_REASONS,
    STEPS,
    labels_document,
    level_label,
    reason_label,
)
from credreg.registry import Verdict
from credreg.verify import _SUMMARIES
from credreg.verify import STEPS as VERIFY_STEPS


def test_every_step_code_and_ledger_verdict_has_words() -> None:
    assert set(STEPS) == {name for name, _ in VERIFY_STEPS}
    assert set(_SUMMARIES) <= set(CODES)
    assert {v.label for v in Verdict} == set(LEDGER_VERDICTS)
    # The English step titles are the library's own, word for word.
    assert {name: label.en for name, label in STEPS.items()} == dict(VERIFY_STEPS)


def test_skill_levels_are_the_national_titles() -> None:
    assert {n: label.zh for n, label in LEVELS["skill_level"].items()} == SKILL_LEVEL_TITLES
    assert level_label(5).zh == "五级/初级工"
    assert level_label(3, "technical_grade").zh == "中级"
    assert level_label(9).en == "Level 9"


def test_unknown_reason_codes_read_as_codes() -> None:
    assert reason_label(1).en == "Issued in error"
    assert reason_label(999).zh == "原因代码 999"


@pytest.mark.parametrize(("pattern", "label"), STEP_REASONS, ids=[p for p, _ in STEP_REASONS])
def test_step_reason_templates_name_only_groups_their_pattern_has(pattern: str, label: object) -> None:
    groups = re.compile(pattern).groups
    for template in label:  # type: ignore[attr-defined]
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
