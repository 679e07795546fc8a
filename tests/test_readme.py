"""The README and docs/ stay short where they must, in step with the code, and whole: every
relative link and anchor resolves, every code path they name exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from api.cli.terminal import settings_table
from tests.conftest import ROOT

README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = [README, *sorted(DOCS.glob("*.md"))]
README_MAX_BYTES = 25_000  # a user reads to the settings they need; design notes live in docs/

FENCE = re.compile(r"^```.*?^```", re.S | re.M)
CODE_SPAN = re.compile(r"`([^`]+)`")  # a span may run over a line break
LINK = re.compile(r"\]\(([^)\s]+)\)")
# A path of this repository named in backticks: `kb/search/searcher.py`, `api/ui/templates/`.
REPO_PATH = re.compile(r"(?:kb|ingest|api|tests|bench|examples|docs|\.ci)/[\w./-]*")


def prose(page: Path) -> str:
    """The page without its fenced code blocks (shell lines and JSON are not links)."""
    return FENCE.sub("", page.read_text())


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    return {slug(line.lstrip("#")) for line in prose(page).splitlines() if line.startswith("#")}


def relative_links(page: Path) -> list[str]:
    text = CODE_SPAN.sub("", prose(page))
    return [t for t in LINK.findall(text) if not re.match(r"(https?|mailto):", t)]


def test_readme_is_short() -> None:
    assert len(README.read_bytes()) <= README_MAX_BYTES


def test_readme_starts_with_the_two_commands() -> None:
    head = README.read_text()[:800]
    assert "make run" in head and "make test" in head


def test_settings_page_is_generated_from_settings() -> None:
    assert settings_table() in (DOCS / "settings.md").read_text()


def test_readme_links_every_docs_page() -> None:
    linked = {target.split("#")[0] for target in relative_links(README)}
    assert "docs/settings.md" in linked
    assert {f"docs/{page.name}" for page in DOCS.glob("*.md")} <= linked


def test_readme_security_states_the_known_side_channels() -> None:
    security = README.read_text().split("\n## Security\n")[1].split("\n## ")[0]
    for fact in ("never ranks for a signed-in reader", "keep group sets few", "KB_ANN_THRESHOLD"):
        assert fact in security


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page: Path) -> None:
    broken = []
    for target in relative_links(page):
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(target)
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(target)
    assert broken == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_code_paths_named_exist(page: Path) -> None:
    named = {s for s in CODE_SPAN.findall(prose(page)) if REPO_PATH.fullmatch(s)}
    assert sorted(p for p in named if not (ROOT / p).exists()) == []
