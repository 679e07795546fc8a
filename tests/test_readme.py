from __future__ import annotations

from api.cli.terminal import settings_table
from tests.conftest import ROOT


def test_readme_settings_table_is_generated_from_settings() -> None:
    assert settings_table() in (ROOT / "README.md").read_text()


def test_readme_starts_with_the_two_commands() -> None:
    head = (ROOT / "README.md").read_text()[:800]
    assert "make run" in head and "make test" in head
