"""What the browser tests share: the running service and what the demo put on its ledger."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ledger_states import LedgerStates
from playwright.sync_api import Page

from credreg.demo import Demo

# Where to save screenshots for a person to look at (outside the repository); unset, none are taken.
SCREENSHOT_ENV = "CREDREG_SCREENSHOT_DIR"


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
