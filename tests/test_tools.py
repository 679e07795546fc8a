"""The programs tests need beside Python (tests/tools.py, .ci/system-packages): found on PATH
only, so hiding one hides it; missing, a test skips saying how to install it, or fails under
KB_REQUIRE_TOOLS=1; the script installs them or says why it could not."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.tools import TOOLS, require_tool, tool_path

SCRIPT = ROOT / ".ci" / "system-packages"


def fake_program(folder: Path, name: str) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def bare(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PATH of one empty folder: no Tesseract, no Chromium, no apt-get."""
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", str(folder))
    monkeypatch.delenv("KB_TEST_CHROMIUM", raising=False)
    monkeypatch.delenv("KB_REQUIRE_TOOLS", raising=False)
    return folder


def test_every_program_is_looked_up_on_path(bare: Path) -> None:
    for name, tool in TOOLS.items():
        assert tool_path(name) is None, name
        program = fake_program(bare, tool.command)
        assert tool_path(name) == str(program), name


def test_chromium_may_be_named_by_kb_test_chromium(
    bare: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = fake_program(tmp_path / "opt", "chrome")
    monkeypatch.setenv("KB_TEST_CHROMIUM", str(elsewhere))

    assert require_tool("chromium") == str(elsewhere)


@pytest.mark.parametrize("name", sorted(TOOLS))
def test_a_missing_program_skips_the_test_saying_how_to_install_it(bare: Path, name: str) -> None:
    with pytest.raises(pytest.skip.Exception) as caught:
        require_tool(name)

    assert f"needs {TOOLS[name].command} " in caught.value.msg
    assert f"install the Debian package {TOOLS[name].package}" in caught.value.msg


@pytest.mark.parametrize("name", sorted(TOOLS))
def test_under_kb_require_tools_a_missing_program_fails_the_test(
    bare: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KB_REQUIRE_TOOLS", "1")

    with pytest.raises(pytest.fail.Exception) as caught:
        require_tool(name)

    assert TOOLS[name].package in caught.value.msg and "KB_REQUIRE_TOOLS=1" in caught.value.msg


def test_the_needs_marker_skips_or_under_kb_require_tools_fails(
    bare: Path, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.needs("tesseract")
        def test_ocr():
            pass
        """
    )
    pytester.runpytest("-p", "tests.tools").assert_outcomes(skipped=1)
    monkeypatch.setenv("KB_REQUIRE_TOOLS", "1")
    pytester.runpytest("-p", "tests.tools").assert_outcomes(errors=1)
    fake_program(bare, "tesseract")
    pytester.runpytest("-p", "tests.tools").assert_outcomes(passed=1)


def run_script(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # bash by its path: the PATH given may hold nothing at all.
    return subprocess.run(
        ["/bin/bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60
    )


def test_the_script_says_which_packages_it_could_not_install_and_goes_on(bare: Path) -> None:
    done = run_script({"PATH": str(bare)})

    assert done.returncode == 0, done.stderr
    assert "Could not install tesseract-ocr chromium: " in done.stderr
    assert "The tests that need them will skip" in done.stderr


def test_under_kb_require_tools_the_script_fails_when_it_cannot_install(bare: Path) -> None:
    done = run_script({"PATH": str(bare), "KB_REQUIRE_TOOLS": "1"})

    assert done.returncode == 1
    assert "Could not install tesseract-ocr chromium: " in done.stderr


def test_the_script_does_nothing_when_the_programs_are_there(bare: Path) -> None:
    for tool in TOOLS.values():
        fake_program(bare, tool.command)

    done = run_script({"PATH": str(bare), "KB_REQUIRE_TOOLS": "1"})

    assert (done.returncode, done.stderr) == (0, "")
