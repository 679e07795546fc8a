"""Fixtures for the web UI: the sample corpus behind a real uvicorn server, users of each role,
and a real headless Chromium (Debian's package; found on PATH, or at $KB_TEST_CHROMIUM) driven
by Playwright.

Screenshots of every main page go to tests/ui/screenshots/ (not committed; look at them).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, sync_playwright

from api.app import create_app
from ingest.pipeline import ingest_paths
from kb.embedding.embedder import Embedder
from kb.knowledge_base import KnowledgeBase
from kb.settings import Settings
from kb.users import Users
from tests.conftest import database_for
from tests.tools import require_tool

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "corpus"
SCREENSHOTS = Path(__file__).parent / "screenshots"
# Without the background-networking flags Chromium keeps dialling Google on a closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
USERS = {
    # name: (role, clearance)
    "nadia": ("reader", "internal"),
    "eva": ("evaluator", "confidential"),
    "tomas": ("trainer", "internal"),
    "root": ("admin", "confidential"),
}


@dataclass(frozen=True)
class Site:
    url: str
    settings: Settings
    kb: KnowledgeBase
    keys: dict[str, str]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def site(
    tmp_path_factory: pytest.TempPathFactory,
    embedder: Embedder,
    backend: str,
    request: pytest.FixtureRequest,
) -> Iterator[Site]:
    """The sample corpus (as `make run` serves it) behind uvicorn on a free local port; on
    the tests' backend (PostgreSQL: a database of its own)."""
    root = tmp_path_factory.mktemp("ui")
    url = database_for(backend, request)
    settings = Settings(store=root / "store", database_url=url)
    with KnowledgeBase(settings, embedder=embedder) as kb:
        report = ingest_paths(kb, [SAMPLE])
        assert not report.failed, report.outcomes
        with Users(settings) as users:
            keys = {name: users.add(name, *rights)[1] for name, rights in USERS.items()}
        port = free_port()
        config = uvicorn.Config(
            create_app(settings, kb=kb), host="127.0.0.1", port=port, log_level="warning"
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        try:
            yield Site(f"http://127.0.0.1:{port}", settings, kb, keys)
        finally:
            server.should_exit = True
            thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = require_tool("chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Browser, site: Site) -> Iterator[Page]:
    """A fresh browser context (no cookies) at a laptop's size."""
    context = browser.new_context(
        base_url=site.url, viewport={"width": 1280, "height": 900}, accept_downloads=True
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        yield page
    finally:
        context.close()


def sign_in(page: Page, site: Site, name: str) -> None:
    page.goto("/ui/signin")
    page.get_by_label("API key").fill(site.keys[name])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/ui/**")


def shot(page: Page, name: str, full_page: bool = True) -> Path:
    """Save a screenshot of the page as tests/ui/screenshots/NAME.png."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    assert path.stat().st_size > 1000
    return path


# WCAG 2.1 A and AA: labels, names, contrast, landmarks, keyboard-reachable controls.
AXE_OPTIONS = {
    "resultTypes": ["violations"],
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
}


def accessible(page: Page) -> None:
    """axe-core (bundled in a PyPI package) finds no WCAG 2.1 A/AA violation on the page."""
    results = Axe().run(page, options=AXE_OPTIONS)
    problems = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
    ]
    assert not problems, "\n".join(problems)
