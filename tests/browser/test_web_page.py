"""The employer's and auditor's page, in a real headless Chromium against the real service and ledger."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from browser_site import Site
from playwright.sync_api import FilePayload, Locator, Page, expect

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


def _tampered(path: Path) -> dict[str, Any]:
    """The document with the holder's name changed and nothing else: its salt and type are kept."""
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    salt, kind, _ = document["data"]["recipient"]["name"].split(":", 2)
    document["data"]["recipient"]["name"] = f"{salt}:{kind}:李冒名"
    return document


def test_a_valid_certificate_shows_valid_first_then_steps_agency_scope_and_hidden_fields(
    page: Page, site: Site
) -> None:
    card = _verify(page, site.demo.shared).first
    verdict = card.locator(".verdict")
    expect(verdict).to_have_attribute("data-verdict", "valid")
    expect(verdict).to_contain_text("有效")
    expect(verdict).to_contain_text("Valid")
    steps = card.locator(".step")
    expect(steps).to_have_count(11)
    assert steps.evaluate_all("els => els.map(e => e.dataset.status)") == ["valid"] * 11
    expect(card.locator(".failed-step")).to_have_count(0)
    expect(card.locator(".unconfirmed")).to_have_count(0)
    # The verdict comes before everything else the card says.
    verdict_box, steps_box = verdict.bounding_box(), card.locator(".steps").bounding_box()
    assert verdict_box is not None
    assert steps_box is not None
    assert verdict_box["y"] < steps_box["y"]

    document = load_document(site.demo.shared.read_bytes())
    holder = document["data"]["recipient"]["name"].split(":", 2)[2]
    expect(card).to_contain_text(holder)
    expect(card).to_contain_text("DEMO202630000001")
    expect(card.locator(".hidden-fields")).to_have_text("recipient.idNumber")
    expect(card).to_contain_text("Beijing Digital Skills Evaluation Centre")
    expect(card).to_contain_text("BJ-DSE-0001")
    expect(card.locator(".state")).to_contain_text("active")
    expect(card).to_contain_text("2026-01-01 00:00:00 UTC+8")  # accredited from, as the demo set it
    expect(card).to_contain_text(
        "2029-06-30 (含当日 through that day, UTC+8)"
    )  # valid through the certificate's last day
    expect(card).to_contain_text("Blockchain engineering technician")
    expect(card).to_contain_text("4-04-05-06")
    site.screenshot(page, "valid")


def test_a_tampered_certificate_names_the_integrity_step(page: Page, site: Site) -> None:
    card = _verify(page, _payload("tampered.json", _tampered(site.valid))).first
    verdict = card.locator(".verdict")
    expect(verdict).to_have_attribute("data-verdict", "invalid")
    expect(verdict).to_have_attribute("data-code", "tampered")
    expect(verdict).to_contain_text("内容被篡改")
    # The failing step is named right under the verdict, and marked in the list of steps.
    expect(card.locator(".failed-step")).to_have_attribute("data-step", "integrity")
    expect(card.locator('.step[data-step="format"]')).to_have_attribute("data-status", "valid")
    integrity = card.locator('.step[data-step="integrity"]')
    expect(integrity).to_have_attribute("data-status", "invalid")
    expect(integrity).to_contain_text("未通过")
    expect(integrity).to_contain_text("target hash")
    expect(card.locator('.step[data-step="issued"]')).to_have_attribute("data-status", "skipped")
    # What the file says about its holder is shown, but not as fact.
    expect(card.locator(".unconfirmed")).to_contain_text("not confirmed")
    site.screenshot(page, "tampered")


def test_a_revoked_certificate_says_revoked(page: Page, site: Site) -> None:
    card = _verify(page, site.demo.revoked).first
    verdict = card.locator(".verdict")
    expect(verdict).to_have_attribute("data-verdict", "invalid")
    expect(verdict).to_have_attribute("data-code", "revoked")
    expect(verdict).to_contain_text("已撤销")
    expect(verdict).to_contain_text("Revoked")
    expect(card.locator(".failed-step")).to_contain_text("Neither the document nor its batch is revoked")
    not_revoked = card.locator('.step[data-step="not-revoked"]')
    expect(not_revoked).to_have_attribute("data-status", "invalid")
    expect(not_revoked).to_contain_text("this document was revoked at")
    expect(card.locator('.step[data-step="integrity"]')).to_have_attribute("data-status", "valid")


def test_several_files_at_once_each_get_their_own_card_in_order(page: Page, site: Site) -> None:
    cards = _verify(page, site.valid, _payload("notes.json", b"this is not JSON"), site.demo.revoked)
    verdicts = cards.locator(".verdict").evaluate_all("els => els.map(e => e.dataset.verdict)")
    assert verdicts == ["valid", "error", "invalid"]
    expect(cards.nth(1)).to_contain_text("notes.json")
    expect(cards.nth(1)).to_contain_text("不是 JSON 文件")
    expect(page.locator("#status")).to_contain_text("1 valid, 2 not valid")


def test_a_pasted_root_hash_shows_its_ledger_status(page: Page, site: Site) -> None:
    # As copied from a document's signature block: without the 0x prefix.
    page.fill("#hash-input", site.root.removeprefix("0x"))
    page.click("#hash-form button[type=submit]")
    card = page.locator("#results .hash-card")
    expect(card.locator(".verdict")).to_have_attribute("data-verdict", "valid")
    expect(card).to_contain_text("On the ledger, in good standing")
    expect(card).to_contain_text("batch merkle root")
    expect(card).to_contain_text("Beijing Digital Skills Evaluation Centre")
    expect(card).to_contain_text("4-04-05-06 L3")
    expect(card).to_contain_text("2029-06-30")  # valid until


def test_an_unknown_hash_is_not_on_the_ledger(page: Page) -> None:
    page.fill("#hash-input", "0x" + "ab" * 32)
    page.click("#hash-form button[type=submit]")
    card = page.locator("#results .hash-card")
    expect(card.locator(".verdict")).to_have_attribute("data-code", "not-issued")
    expect(card).to_contain_text("Not on the ledger")
    expect(card).to_contain_text("neither a root on the ledger nor a leaf")


def test_a_problem_from_the_api_reads_as_a_sentence_not_json(page: Page) -> None:
    page.fill("#hash-input", "0x1234")
    page.click("#hash-form button[type=submit]")
    problem = page.locator("#results .problem")
    expect(problem).to_contain_text("The request is not valid")
    expect(problem).to_contain_text("0x followed by 64 hex digits")
    text = problem.inner_text()
    assert "{" not in text
    assert '"type"' not in text


def test_the_audit_timeline_lists_the_ledger_events_in_order(page: Page, site: Site) -> None:
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
    ):
        assert expected in events, f"{expected} missing from the timeline: {events}"
    assert (
        events.index("AgencyRegistered")
        < events.index("CredentialIssued")
        < events.index("CredentialStatusChanged")
    )
    blocks = [int(cell.split()[0]) for cell in rows.locator("td:nth-child(2)").all_inner_texts()]
    assert blocks == sorted(blocks)

    issued = page.locator('#audit-rows tr[data-event="CredentialIssued"]')
    expect(issued.locator(f'code[title="{site.root}"]')).to_have_count(1)
    expect(issued).to_contain_text("Beijing Digital Skills Evaluation Centre")
    expect(issued).to_contain_text("signer")
    expect(issued).to_contain_text("4-04-05-06 L3")  # the scope by name, not by its hash
    expect(page.locator('#audit-rows tr[data-event="CredentialStatusChanged"]')).to_contain_text("revoke")
    expect(page.locator('#audit-rows tr[data-event="AgencyAccredited"]').first).to_contain_text("governor")
    site.screenshot(page, "audit")

    page.select_option("#audit-type", "CredentialIssued")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-event", "CredentialIssued")
