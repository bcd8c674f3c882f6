"""What the browser tests share: the running service and what the demo put on its ledger."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ledger_states import LedgerStates
from playwright.sync_api import Browser, Page

from credreg.demo import Demo

# Where to save screenshots for a person to look at (outside the repository); unset, none are taken.
SCREENSHOT_ENV = "CREDREG_SCREENSHOT_DIR"
UI_TIMEOUT_MS = 10_000
LOCALES = {"zh": "zh-CN", "en": "en-US"}


@dataclass(frozen=True)
class Site:
    """The running service and what the demo put on its ledger."""

    url: str
    demo: Demo
    root: str
    valid: Path
    states: LedgerStates

    def screenshot(self, page: Page, name: str) -> None:
        directory = os.environ.get(SCREENSHOT_ENV)
        if directory:
            Path(directory).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(directory) / f"{name}.png"), full_page=True)


def open_page(browser: Browser, site: Site, locale: str, path: str = "/") -> Iterator[Page]:
    """A tab in a fresh browser profile with `locale`; fails the test on an uncaught script error or a
    request leaving the service."""
    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(UI_TIMEOUT_MS)
    tab = context.new_page()
    script_errors: list[str] = []
    elsewhere: list[str] = []
    tab.on("pageerror", lambda exc: script_errors.append(str(exc)))
    tab.on("request", lambda req: None if req.url.startswith(site.url) else elsewhere.append(req.url))
    tab.goto(site.url + path)
    tab.wait_for_selector("body[data-ready=true]")
    try:
        yield tab
    finally:
        context.close()
    assert script_errors == [], f"the page's script failed: {script_errors}"
    assert elsewhere == [], f"the page asked for something outside the service: {elsewhere}"
