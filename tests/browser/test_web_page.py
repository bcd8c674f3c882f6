"""The employer's and auditor's page, in a real headless Chromium against the real service and ledger, once
in Chinese and once in English (the browser's language decides)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from browser_site import LOCALES, Site, open_page
from playwright.sync_api import Browser, FilePayload, Locator, Page, expect

from credreg import __version__
from credreg.documents.wrap import load_document


def _payload(name: str, document: Any) -> FilePayload:
    """A file as the page's file chooser receives it, from bytes or from a JSON value."""
    body = document if isinstance(document, bytes) else json.dumps(document, ensure_ascii=False).encode()
    return {"name": name, "mimeType": "application/json", "buffer": body}


def _verify(page: Page, *files: Path | FilePayload) -> Locator:
    """Pick `files` in the page's file chooser; return the result cards once all are shown."""
    # Playwright takes either paths or in-memory files in one call, not both.
    payloads = [_payload(f.name, f.read_bytes()) if isinstance(f, Path) else f for f in files]
    page.set_input_files("#file-input", payloads)
    cards = page.locator("#results .card")
    expect(cards).to_have_count(len(files))
    return cards


def _look_up(page: Page, value: str) -> Locator:
    page.fill("#hash-input", value)
    page.click("#hash-form button[type=submit]")
    return page.locator("#results .hash-card, #results .problem")


def _tampered(site: Site) -> dict[str, Any]:
    """The valid document with the holder's name changed and nothing else: its salt and type are kept."""
    document: dict[str, Any] = json.loads(site.valid.read_text(encoding="utf-8"))
    salt, kind, _ = document["data"]["recipient"]["name"].split(":", 2)
    document["data"]["recipient"]["name"] = f"{salt}:{kind}:李冒名"
    return document


def _wrong_proof(site: Site) -> dict[str, Any]:
    """The valid document with a proof that leads elsewhere (the proof is not part of the signed data)."""
    document: dict[str, Any] = json.loads(site.valid.read_text(encoding="utf-8"))
    document["signature"]["proof"] = ["ab" * 32, *document["signature"]["proof"][1:]]
    return document


def _target(path: Path) -> str:
    return "0x" + load_document(path.read_bytes())["signature"]["targetHash"]


def _words(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def _no_english_reasons(card: Locator, lang: str) -> None:
    """In Chinese, every step reason is shown in Chinese (an untranslated one would be marked lang=en)."""
    if lang == "zh":
        expect(card.locator('.step-reason[lang="en"]')).to_have_count(0)


def test_a_valid_certificate_shows_valid_first_then_steps_agency_scope_and_hidden_fields(
    page: Page, site: Site, lang: str
) -> None:
    card = _verify(page, site.demo.shared).first
    verdict = card.locator(".verdict")
    expect(verdict).to_have_attribute("data-verdict", "valid")
    expect(verdict).to_contain_text(_words(lang, "有效", "Valid"))
    steps = card.locator(".step")
    expect(steps).to_have_count(11)
    assert steps.evaluate_all("els => els.map(e => e.dataset.status)") == ["valid"] * 11
    expect(card.locator(".failed-step")).to_have_count(0)
    expect(card.locator(".unconfirmed")).to_have_count(0)
    _no_english_reasons(card, lang)
    expect(card.locator('.step[data-step="integrity"]')).to_contain_text(
        _words(lang, "持证人隐藏了 1 个字段", "1 hidden by the holder")
    )
    # The verdict comes before everything else the card says.
    verdict_box, steps_box = verdict.bounding_box(), card.locator(".steps").bounding_box()
    assert verdict_box is not None
    assert steps_box is not None
    assert verdict_box["y"] < steps_box["y"]

    document = load_document(site.demo.shared.read_bytes())
    holder = document["data"]["recipient"]["name"].split(":", 2)[2]
    expect(card).to_contain_text(holder)
    expect(card).to_contain_text("DEMO202630000001")
    # Field names as people know them, not as paths.
    hidden = card.locator('.hidden-fields [data-field="recipient.idNumber"]')
    expect(hidden).to_have_text(_words(lang, "身份证号", "ID number"))
    expect(card).to_contain_text("Beijing Digital Skills Evaluation Centre")
    expect(card).to_contain_text("BJ-DSE-0001")
    expect(card.locator(".state")).to_have_text(_words(lang, "正常", "active"))
    # One time zone, named once per view, and every time in it.
    expect(card.locator(".zone-note")).to_contain_text("Asia/Shanghai")
    expect(card).to_contain_text("2026-01-01 00:00:00 UTC+8")  # accredited from, as the demo set it
    expect(card).to_contain_text(_words(lang, "2029-06-30（含当日）", "2029-06-30 (through that day)"))
    expect(card.locator(".level")).to_have_text(_words(lang, "三级/高级工", "level 3, senior worker"))
    expect(card).to_contain_text("Blockchain engineering technician")
    expect(card).to_contain_text("4-04-05-06")
    site.screenshot(page, f"valid-{lang}")


# (document, verdict, code, deciding step, Chinese word, English word, reason as words or None)
VERDICTS: list[tuple[str, Callable[[Site], Path | FilePayload], str, str, str, str, str, str | None]] = [
    ("tampered", lambda s: _payload("tampered.json", _tampered(s)), "invalid", "tampered", "integrity", "内容被篡改", "Tampered", None),
    ("wrong-proof", lambda s: _payload("proof.json", _wrong_proof(s)), "invalid", "invalid-proof", "merkle-proof", "不属于所称批次", "Not part of its batch", None),
    ("revoked", lambda s: s.demo.revoked, "invalid", "revoked", "not-revoked", "已撤销", "Revoked", "证书信息有误|the certificate's details were wrong"),
    ("suspended", lambda s: s.states.suspended, "invalid", "suspended", "not-revoked", "已暂停", "Suspended", "待核查|under investigation"),
    ("expired", lambda s: s.states.expired, "invalid", "expired", "not-expired", "已过期", "Expired", None),
    ("not-issued", lambda s: s.states.not_issued, "invalid", "not-issued", "issued", "未在链上登记", "Not issued", None),
    ("agency-revoked", lambda s: s.states.agency_revoked, "invalid", "agency-revoked", "agency-standing", "发证机构已被撤销", "Agency revoked", None),
    ("signer-compromised", lambda s: s.states.signer_compromised, "invalid", "signer-compromised", "signer", "签名密钥已泄露", "Signing key compromised", None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("document", "verdict", "code", "step", "zh", "en", "reason"),
    [case[1:] for case in VERDICTS],
    ids=[case[0] for case in VERDICTS],
)
def test_each_verdict_names_its_deciding_step_in_the_chosen_language(
    page: Page,
    site: Site,
    lang: str,
    document: Callable[[Site], Path | FilePayload],
    verdict: str,
    code: str,
    step: str,
    zh: str,
    en: str,
    reason: str | None,
) -> None:
    card = _verify(page, document(site)).first
    banner = card.locator(".verdict")
    expect(banner).to_have_attribute("data-verdict", verdict)
    expect(banner).to_have_attribute("data-code", code)
    expect(banner.locator(".verdict-code")).to_have_text(_words(lang, zh, en))
    expect(card.locator(".failed-step")).to_have_attribute("data-step", step)
    deciding = card.locator(f'.step[data-step="{step}"]')
    expect(deciding).to_have_attribute("data-status", "invalid")
    expect(deciding.locator(".step-status")).to_contain_text(_words(lang, "未通过", "failed"))
    _no_english_reasons(card, lang)
    if reason is not None:
        expect(deciding).to_contain_text(_words(lang, *reason.split("|")))
    expect(card.locator(".unconfirmed")).to_have_count(1)
    site.screenshot(page, f"{code}-{lang}")


def test_several_files_at_once_each_get_their_own_card_in_order(page: Page, site: Site, lang: str) -> None:
    cards = _verify(page, site.valid, _payload("notes.json", b"this is not JSON"), site.demo.revoked)
    verdicts = cards.locator(".verdict").evaluate_all("els => els.map(e => e.dataset.verdict)")
    assert verdicts == ["valid", "error", "invalid"]
    expect(cards.nth(1)).to_contain_text("notes.json")
    expect(cards.nth(1)).to_contain_text(_words(lang, "不是 JSON 文件", "Not a JSON file"))
    expect(page.locator("#status")).to_contain_text(
        _words(lang, "1 个有效，2 个无效", "1 valid, 2 not valid")
    )


def test_a_batch_root_is_a_batch_and_names_its_revoked_certificate(page: Page, site: Site, lang: str) -> None:
    # As copied from a document's signature block: without the 0x prefix.
    card = _look_up(page, site.root.removeprefix("0x"))
    banner = card.locator(".verdict")
    expect(banner).to_have_attribute("data-verdict", "batch")
    expect(banner).to_contain_text(_words(lang, "这是一个批次的根", "This is a batch root"))
    # Never "in good standing" for a batch, whatever its certificates' states.
    for words in ("状态正常", "in good standing"):
        expect(card).not_to_contain_text(words)
    expect(card.locator('[data-verdict="valid"]')).to_have_count(0)
    revoked = card.locator(f'.batch-changes li[data-target="{_target(site.demo.revoked)}"]')
    expect(revoked).to_have_attribute("data-state", "revoked")
    expect(revoked).to_contain_text(_words(lang, "证书信息有误", "the certificate's details were wrong"))
    # The demo issued through the CLI, not through this service: it says it does not know the leaves.
    expect(card.locator(".batch-known")).to_contain_text(
        _words(lang, "不知道这个批次包含哪些证书", "does not know which certificates")
    )
    expect(card).to_contain_text("Beijing Digital Skills Evaluation Centre")
    expect(card).to_contain_text(_words(lang, "三级/高级工", "level 3, senior worker"))
    site.screenshot(page, f"root-{lang}")


def test_the_hash_of_a_cli_issued_certificate_is_never_called_absent(
    page: Page, site: Site, lang: str
) -> None:
    card = _look_up(page, _target(site.valid))
    banner = card.locator(".verdict")
    expect(banner).to_have_attribute("data-code", "unknown-hash")
    expect(banner).not_to_have_attribute("data-verdict", "invalid")
    for words in ("链上无此记录", "Not on the ledger", "未在链上登记", "Not issued"):
        expect(card).not_to_contain_text(words)
    expect(card).to_contain_text(
        _words(lang, "这并不表示证书未签发", "does not mean the certificate was not issued")
    )
    expect(card.locator(".ask-file")).to_contain_text(
        _words(lang, "请把证书文件拖到", "Drop the certificate file")
    )
    site.screenshot(page, f"unknown-{lang}")
    with page.expect_file_chooser():
        card.locator('[data-action="choose-file"]').click()


def test_the_hash_of_a_revoked_cli_issued_certificate_says_revoked(page: Page, site: Site, lang: str) -> None:
    card = _look_up(page, _target(site.demo.revoked))
    banner = card.locator(".verdict")
    expect(banner).to_have_attribute("data-verdict", "invalid")
    expect(banner).to_have_attribute("data-code", "revoked")
    expect(banner).to_contain_text(_words(lang, "已撤销", "Revoked: this certificate"))
    expect(card).to_contain_text(_words(lang, "证书信息有误", "the certificate's details were wrong"))
    expect(card).to_contain_text(site.root)


def test_a_problem_from_the_api_reads_as_a_sentence_not_json(page: Page, lang: str) -> None:
    problem = _look_up(page, "0x1234")
    expect(problem).to_contain_text(_words(lang, "请求无效", "The request is not valid"))
    expect(problem).to_contain_text("0x followed by 64 hex digits")
    text = problem.inner_text()
    assert "{" not in text
    assert '"type"' not in text


def test_the_audit_timeline_lists_the_ledger_events_in_order(page: Page, site: Site, lang: str) -> None:
    # Keyboard only: the tabs follow the WAI-ARIA pattern (arrow keys move between them).
    page.focus("#tab-verify")
    page.keyboard.press("ArrowRight")
    expect(page.locator("#view-audit")).to_be_visible()
    expect(page.locator("#view-verify")).to_be_hidden()
    rows = page.locator("#audit-rows tr")
    expect(rows.first).to_be_visible()
    events = rows.evaluate_all("els => els.map(e => e.dataset.event)")
    for expected in (
        "OwnershipTransferred",
        "ScopeDefined",
        "AgencyRegistered",
        "AgencyAccredited",
        "SignerAdded",
        "CredentialIssued",
        "CredentialStatusChanged",
        "AgencyRevoked",
        "SignerCompromised",
    ):
        assert expected in events, f"{expected} missing from the timeline: {events}"
    assert (
        events.index("AgencyRegistered")
        < events.index("CredentialIssued")
        < events.index("CredentialStatusChanged")
    )
    blocks = [int(cell.split()[0]) for cell in rows.locator("td:nth-child(2)").all_inner_texts()]
    assert blocks == sorted(blocks)

    issued = page.locator('#audit-rows tr[data-event="CredentialIssued"]').first
    expect(issued.locator(f'code[title="{site.root}"]')).to_have_count(1)
    expect(issued).to_contain_text(_words(lang, "发证", "Credentials issued"))
    expect(issued).to_contain_text("Beijing Digital Skills Evaluation Centre")
    expect(issued).to_contain_text(_words(lang, "签名密钥", "signer"))
    expect(issued).to_contain_text(_words(lang, "三级/高级工", "level 3, senior worker"))  # the scope by name
    changed = page.locator('#audit-rows tr[data-event="CredentialStatusChanged"]').first
    expect(changed).to_contain_text(_words(lang, "撤销", "revoke"))
    expect(changed).to_contain_text(_words(lang, "证书信息有误", "the certificate's details were wrong"))
    expect(page.locator('#audit-rows tr[data-event="AgencyAccredited"]').first).to_contain_text(
        _words(lang, "管理部门", "governor")
    )
    expect(page.locator('#audit-rows tr[data-event="AgencyRevoked"]')).to_contain_text(
        _words(lang, "评价机构违规颁发", "the agency issued it against the rules")
    )
    expect(page.locator("#audit-table thead")).to_contain_text(
        _words(lang, "时间（Asia/Shanghai）", "Time (Asia/Shanghai)")
    )
    site.screenshot(page, f"audit-{lang}")

    page.select_option("#audit-type", "AgencyRevoked")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-event", "AgencyRevoked")


def test_the_language_follows_the_browser_and_the_switch_is_remembered(
    browser: Browser, site: Site, lang: str
) -> None:
    other = "en" if lang == "zh" else "zh"
    pages = open_page(browser, site, LOCALES[lang])
    page = next(pages)
    try:
        expect(page.locator("html")).to_have_attribute("lang", LOCALES[lang] if lang == "zh" else "en")
        expect(page.locator("#tab-verify")).to_have_text(_words(lang, "核验证书", "Verify"))
        card = _verify(page, site.valid).first
        expect(card.locator(".verdict-word")).to_have_text(_words(lang, "有效", "Valid"))

        page.click(f'[data-lang="{other}"]')
        expect(page.locator(f'[data-lang="{other}"]')).to_have_attribute("aria-pressed", "true")
        expect(page.locator("#tab-verify")).to_have_text(_words(other, "核验证书", "Verify"))
        # What was shown is redrawn in the other language, without asking the service again.
        expect(card.locator(".verdict-word")).to_have_text(_words(other, "有效", "Valid"))
        expect(card.locator(".level")).to_have_text(_words(other, "三级/高级工", "level 3, senior worker"))
        expect(page.locator(".foot")).to_contain_text(
            _words(other, "账本上只记录哈希", "Only hashes are on the ledger")
        )
        expect(page.locator("#version")).to_contain_text(__version__)

        page.reload()
        page.wait_for_selector("body[data-ready=true]")
        expect(page.locator("#tab-audit")).to_have_text(_words(other, "审计时间线", "Audit timeline"))
    finally:
        next(pages, None)


def test_step_reasons_show_no_utc_time_whether_worded_or_not(page: Page, lang: str) -> None:
    """A record that differs from its document lists each difference; a reason the table does not know yet
    keeps its English, but its time is still in the view's zone (Asia/Shanghai here)."""
    shown = page.evaluate(
        """async () => {
            const m = await import("./js/i18n.js");
            return [
                m.stepReason("valid until 2029-06-30 16:00:00 UTC in the document, never on the ledger; "
                             + "agency 2 in the document, 1 on the ledger"),
                m.stepReason("a reason with no words yet, at 2026-11-29 05:00:00 UTC"),
            ];
        }"""
    )
    listed, unknown = shown
    assert listed["translated"] is True
    assert "UTC" not in listed["text"].replace("UTC+8", "")
    assert "2029-07-01 00:00:00 UTC+8" in listed["text"]
    assert (
        _words(lang, "证书上为机构 2，账本上为机构 1", "agency 2 in the document, 1 on the ledger")
        in listed["text"]
    )
    assert unknown == {
        "text": "a reason with no words yet, at 2026-11-29 13:00:00 UTC+8",
        "translated": False,
    }
