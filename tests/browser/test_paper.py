"""On paper: the certificate view and the verification slip print with a QR code that a scanner reads back
to this registry's page, which then shows the certificate's verdict.

Print to PDF in headless Chromium, render the PDF with poppler's pdftoppm, decode the QR code with zbar
(through pyzbar), and follow the link in the browser.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_site import LOCALES, Site, open_page
from playwright.sync_api import Browser, Page, expect
from pyzbar import pyzbar

RENDER_DPI = 150
TOOL_SECONDS = 60


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is missing: run `make browser` (Debian's poppler-utils) and try again")
    return found


def _print(page: Page, site: Site, which: str, out: Path) -> Path:
    """Verify the demo's valid certificate, press the card's print button, and print the page to PDF."""
    page.set_input_files("#file-input", [str(site.valid)])
    card = page.locator("#results .card")
    expect(card.locator(".verdict")).to_have_attribute("data-verdict", "valid")
    # The print dialog cannot be answered headless; what it would print is what page.pdf() prints.
    page.evaluate("window.print = () => { document.body.dataset.printed = 'yes'; }")
    card.locator(f'[data-print="{which}"]').click()
    expect(page.locator("body")).to_have_attribute("data-printed", "yes")
    expect(page.locator(f'#print-area [data-paper="{which}"]')).to_have_count(1)
    path = out / f"{which}.pdf"
    page.pdf(path=str(path), format="A4", print_background=True)
    return path


def _pgm(path: Path) -> tuple[bytes, int, int]:
    """pixels, width, height of a binary PGM (P5) file with 8-bit samples."""
    data = path.read_bytes()
    fields: list[bytes] = []
    position = 0
    while len(fields) < 4:
        while data[position : position + 1].isspace():
            position += 1
        if data[position : position + 1] == b"#":
            position = data.index(b"\n", position)
            continue
        end = position
        while not data[end : end + 1].isspace():
            end += 1
        fields.append(data[position:end])
        position = end
    magic, width, height, depth = fields[0], int(fields[1]), int(fields[2]), int(fields[3])
    assert magic == b"P5", magic
    assert depth == 255, depth
    pixels = data[position + 1 : position + 1 + width * height]
    assert len(pixels) == width * height
    return pixels, width, height


def _qr_links(pdf: Path) -> list[str]:
    """The QR codes on the PDF's first page, decoded."""
    stem = pdf.with_suffix("")
    subprocess.run(
        [_tool("pdftoppm"), "-r", str(RENDER_DPI), "-gray", "-singlefile", "-f", "1", str(pdf), str(stem)],
        check=True,
        timeout=TOOL_SECONDS,
    )
    found = pyzbar.decode(_pgm(stem.with_suffix(".pgm")), symbols=[pyzbar.ZBarSymbol.QRCODE])
    return [symbol.data.decode("utf-8") for symbol in found]


def _text(pdf: Path) -> str:
    reply = subprocess.run(
        [_tool("pdftotext"), str(pdf), "-"], check=True, capture_output=True, timeout=TOOL_SECONDS
    )
    return " ".join(reply.stdout.decode("utf-8").split())  # wrapped lines read as one


@pytest.fixture
def page(browser: Browser, site: Site, lang: str) -> Iterator[Page]:
    yield from open_page(browser, site, LOCALES[lang])


@pytest.mark.parametrize("which", ["certificate", "slip"])
def test_a_printed_qr_code_leads_back_to_a_valid_verdict(
    page: Page, browser: Browser, site: Site, lang: str, which: str, tmp_path: Path
) -> None:
    pdf = _print(page, site, which, tmp_path)
    text = _text(pdf)
    # Only the chosen paper is printed: none of the page's controls.
    for control in ("选择文件", "choose files", "查询", "Look up", "审计时间线", "Audit timeline"):
        assert control not in text, f"{control!r} printed on the {which}"
    if which == "slip":
        report = page.evaluate("fetch('v1/registry').then(r => r.json())")
        block = (page.locator("#results .card details.ledger dd").last.text_content() or "").strip()
        assert block.isdigit()
        assert int(block) <= report["head_block"]
        assert block in text
        assert "Asia/Shanghai" in text
        assert ("有效" if lang == "zh" else "Valid") in text
        assert "Beijing Digital Skills" in text
        assert "DEMO202630000001" in text
        assert ("证书核验单" if lang == "zh" else "Certificate verification slip") in text
    else:
        assert "DEMO202630000001" in text
        assert ("三级/高级工" if lang == "zh" else "Level 3 / senior worker") in text

    links = _qr_links(pdf)
    assert len(links) == 1, f"expected one QR code on the {which}, found {links}"
    link = links[0]
    assert link.startswith(site.url + "/?v="), link
    # Short enough to scan from paper: root, leaf and the demo batch's 3-step proof.
    assert len(link) < 300, link

    scanned = open_page(browser, site, LOCALES[lang], link.removeprefix(site.url))
    phone = next(scanned)
    try:
        card = phone.locator("#results .hash-card")
        banner = card.locator(".verdict")
        expect(banner).to_have_attribute("data-verdict", "valid")
        expect(banner).to_have_attribute("data-kind", "leaf")
        expect(card).to_contain_text("Beijing Digital Skills Evaluation Centre")
        expect(card.locator("h2")).to_contain_text(
            "0x" + site.valid.read_text().split('"targetHash": "')[1][:64]
        )
    finally:
        next(scanned, None)
    site.screenshot(page, f"{which}-{lang}")
