"""The programs some tests need beside Python: Tesseract (OCR) and Chromium (the web UI's
browser tests). A plugin of the suite (`pytest_plugins` in tests/conftest.py).

A test that needs one asks `require_tool(name)` (or carries `@pytest.mark.needs(name)`): the
program is looked up on PATH, so hiding it from PATH hides it from the tests too, and when it
is missing the test skips, saying how to install it. With KB_REQUIRE_TOOLS=1 (`.ci/run` sets
it) a missing program fails the test instead: CI never passes on skipped browser or OCR tests.
`.ci/system-packages` installs the Debian packages named here.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass

import pytest

STRICT = "KB_REQUIRE_TOOLS"


@dataclass(frozen=True)
class Tool:
    command: str  # looked up on PATH
    package: str  # the Debian package that installs it
    override: str | None = None  # an environment variable naming another command or path


TOOLS = {
    "tesseract": Tool("tesseract", "tesseract-ocr"),
    "chromium": Tool("chromium", "chromium", override="KB_TEST_CHROMIUM"),
}


def tool_path(name: str) -> str | None:
    """Where the program is (found on PATH, or at its override), or None."""
    tool = TOOLS[name]
    command = os.environ.get(tool.override, "") if tool.override else ""
    return shutil.which(command or tool.command)


def tools_required() -> bool:
    """Whether a missing program fails a test rather than skipping it (KB_REQUIRE_TOOLS)."""
    return os.environ.get(STRICT, "") not in ("", "0")


def require_tool(name: str) -> str:
    """The program's path; when it is missing, skip the test saying how to install it, or
    fail it under KB_REQUIRE_TOOLS=1."""
    path = tool_path(name)
    if path is not None:
        return path
    if tools_required():
        pytest.fail(f"{missing(name)}; {STRICT}=1 makes this a failure", pytrace=False)
    pytest.skip(missing(name))


def missing(name: str) -> str:
    """Why a test needing the program cannot run, and how to install it."""
    tool = TOOLS[name]
    where = f"${tool.override} or " if tool.override else ""
    return (
        f"needs {tool.command} ({where}on PATH): not found; install the Debian package "
        f"{tool.package} (`.ci/system-packages` does, as root or with sudo)"
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "needs(name): the test needs the program `name` (tests/tools.py: "
        + ", ".join(sorted(TOOLS))
        + "); it skips without it, or fails under KB_REQUIRE_TOOLS=1",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A skip marker, so that the report names the test skipped rather than this file.
    if tools_required():
        return
    for item in items:
        for marker in item.iter_markers("needs"):
            for name in marker.args:
                if tool_path(name) is None:
                    item.add_marker(pytest.mark.skip(reason=missing(name)))


def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker in item.iter_markers("needs"):
        for name in marker.args:
            require_tool(name)
