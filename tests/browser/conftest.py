"""Fixtures for the browser tests: the real service over a real anvil with the demo seeded, served by uvicorn
on a free loopback port, and Debian's Chromium driven headless by Playwright.

Playwright's own browser download cannot work here; `make browser` (part of `make setup`) installs Debian's
chromium, which Playwright drives through `executable_path`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from browser_site import LOCALES, Site, open_page
from ledger_states import add_ledger_states
from playwright.sync_api import Browser, Page, sync_playwright
from support.registry import LedgerSpec, deploy_ledger

from credreg.api import create_app
from credreg.chain.client import connect
from credreg.chain.devchain import DevChain, free_port
from credreg.config import Settings
from credreg.demo import demo_accounts, seed_demo

CHROMIUM = Path("/usr/bin/chromium")
# --headless comes from headless=True; the rest keep Chromium from reaching for the network at start-up.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STARTUP_SECONDS = 20.0


def _wait_until_indexed(url: str, chain_url: str) -> None:
    """Until the service's event index holds every block the chain has, so the timeline is complete."""
    head = connect(chain_url).eth.block_number
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        reply = httpx.get(f"{url}/v1/audit/events", params={"limit": 1}, timeout=5)
        if reply.status_code == 200 and reply.json()["indexed_to"] >= head:
            return
        time.sleep(0.1)
    raise AssertionError(f"the service did not index up to block {head} within {STARTUP_SECONDS:.0f} s")


@pytest.fixture(scope="module")
def site(module_chain: DevChain, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    data_dir = tmp_path_factory.mktemp("service")
    # An empty registry governed by the demo's governor (test account 0); the demo sets up the rest.
    ledger = deploy_ledger(module_chain.url, LedgerSpec(scopes=(), agencies=()))
    assert ledger.governor.address == demo_accounts()[0].address
    ledger.manifest.save(data_dir / "deployment.json")
    registry = ledger.registry
    demo = seed_demo(registry, data_dir)
    states = add_ledger_states(registry, demo, data_dir / "states")
    guide = json.loads((demo.directory / "demo.json").read_text(encoding="utf-8"))
    settings = Settings(
        _env_file=None,  # a .env in the working directory must not point the test elsewhere
        data_dir=data_dir,
        rpc_url=module_chain.url,
        index_poll_seconds=0.1,
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="credreg-test-http", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise AssertionError(f"the service did not start on {url}")
            time.sleep(0.05)
        _wait_until_indexed(url, module_chain.url)
        yield Site(
            url=url, demo=demo, root=guide["root"], valid=Path(guide["valid_certificate"]), states=states
        )
    finally:
        server.should_exit = True
        thread.join(STARTUP_SECONDS)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (Debian's chromium package) and try again")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(params=sorted(LOCALES))
def lang(request: pytest.FixtureRequest) -> str:
    """The page takes its language from the browser's (navigator.languages): each test runs once per language."""
    language: str = request.param
    return language


@pytest.fixture
def page(browser: Browser, site: Site, lang: str) -> Iterator[Page]:
    """The page as a browser set to `lang` shows it."""
    yield from open_page(browser, site, LOCALES[lang])
