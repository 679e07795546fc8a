"""What the installed `kb` prints to a pipe, a log file or a narrow terminal: whole paths and
ids on one line, and progress as plain lines on stderr."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from ingest.pipeline import ingest_paths
from kb.embedding.embedder import Embedder
from kb.knowledge_base import KnowledgeBase
from kb.settings import Settings
from kb.users import Users
from tests.docs import make_corrupt_pdf, write

KB = Path(sys.executable).parent / "kb"
LONG_ID = "belgarra-womens-participation-review-2021-final-version"
ANNEX = f"{LONG_ID}-annex"
REVIEWER = "belgarra-womens-participation-review-lead-evaluator"
TEXT = "# Belgarra\n\nWomen took part in the Belgarra delta peace talks in growing numbers.\n"
PROGRESS = re.compile(r"ingesting: (\d+)/(\d+) files, (\d+\.\d)%, \d\d:\d\d elapsed")
CONTROL = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def environment(**env: str) -> dict[str, str]:
    """The test's environment without a terminal width (COLUMNS would hide the bug)."""
    base = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "KB_STORE")}
    return {**base, "HF_HUB_OFFLINE": "1", **env}


def piped(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`kb` with stdout and stderr to pipes, as `kb ... | grep` or a log file gets them."""
    command = [str(KB), *args]
    return subprocess.run(command, capture_output=True, text=True, env=environment(**env))


def on_a_terminal(columns: int, *args: str) -> list[str]:
    """The lines `kb` shows on a terminal `columns` wide (a pseudo-terminal), colours removed."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    env = environment(TERM="xterm-256color")
    with subprocess.Popen(
        [str(KB), *args], stdin=follower, stdout=follower, stderr=follower, env=env
    ) as process:
        os.close(follower)
        shown = b""
        while True:
            try:
                data = os.read(leader, 65536)
            except OSError:  # the terminal closed: the command is done
                break
            if not data:
                break
            shown += data
        assert process.wait() == 0, shown
    os.close(leader)
    return CONTROL.sub("", shown.decode()).splitlines()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    """A store whose document ids and user name are longer than a table column on 80 columns:
    one document current, another in the trash."""
    folder = tmp_path_factory.mktemp("long-ids")
    settings = Settings(store=folder / "store")
    write(folder / "inbox", f"{LONG_ID}.md", TEXT)
    write(folder / "inbox", f"{ANNEX}.md", TEXT.replace("Women", "Annex: women"))
    with KnowledgeBase(settings, embedder=embedder) as kb:
        assert ingest_paths(kb, [folder / "inbox"]).counts()["added"] == 2
        kb.delete(ANNEX, actor=f"cli:{REVIEWER}")
    with Users(settings) as users:
        users.add(REVIEWER, "evaluator")
    return settings.store


def whole(text: str, value: str) -> bool:
    """Whether some line holds `value` entire (not cut, folded or ellipsised)."""
    return any(value in line for line in text.splitlines())


@pytest.mark.parametrize(
    ("command", "shown"),
    [
        (["list"], LONG_ID),
        (["versions", LONG_ID], f"{LONG_ID}.md"),
        (["trash", "list"], ANNEX),
        (["audit"], ANNEX),
        (["audit"], f"cli:{REVIEWER}"),
        (["users", "list"], REVIEWER),
    ],
)
def test_a_table_on_a_pipe_never_cuts_an_id(store: Path, command: list[str], shown: str) -> None:
    done = piped("--store", str(store), *command)
    assert done.returncode == 0, done.stderr
    assert whole(done.stdout, shown), done.stdout
    assert "…" not in done.stdout


def test_a_table_on_a_narrow_terminal_keeps_the_id_whole(store: Path) -> None:
    lines = on_a_terminal(60, "--store", str(store), "list")
    assert any(LONG_ID in line for line in lines), "\n".join(lines)
    assert not any("…" in line for line in lines), "\n".join(lines)


def long_folder(tmp_path: Path) -> tuple[Path, Path]:
    """A folder holding a good file and a broken one whose path is over 120 characters."""
    folder = tmp_path / "reports-from-the-belgarra-field-office" / "womens-participation-2021"
    write(folder, f"{LONG_ID}.md", TEXT)
    broken = write(folder, f"{LONG_ID}-signed-annex-scanned.pdf", make_corrupt_pdf())
    assert len(str(broken)) > 120
    return folder, broken


def test_ingest_to_a_pipe_gives_each_failure_one_line_and_plain_progress(tmp_path: Path) -> None:
    folder, broken = long_folder(tmp_path)
    store = str(tmp_path / "store")

    done = piped("--store", store, "ingest", str(folder), KB_PROGRESS_SECONDS="0")

    assert done.returncode == 1
    lines = done.stderr.splitlines()
    failed = [line for line in lines if str(broken) in line]
    assert len(failed) == 1 and failed[0].startswith("failed "), lines
    assert "damaged" in failed[0]
    # An interval of 0: a line per file, never a bar's control codes.
    steps = [PROGRESS.fullmatch(line) for line in lines if line.startswith("ingesting")]
    assert [(m.group(1), m.group(2), m.group(3)) for m in steps if m] == [
        ("1", "2", "50.0"),
        ("2", "2", "100.0"),
    ], lines
    assert "\x1b" not in done.stderr and "\r" not in done.stderr
    assert "1 added, 0 updated, 0 unchanged, 0 duplicate, 1 failed" in lines

    # --json: stdout stays one JSON document; progress still goes to stderr.
    again = piped("--store", store, "ingest", str(folder), "--json", KB_PROGRESS_SECONDS="0")
    assert json.loads(again.stdout)["unchanged"] == 1
    assert sum(1 for line in again.stderr.splitlines() if PROGRESS.fullmatch(line)) == 2

    # Work that ends within the interval prints no progress at all.
    quiet = piped("--store", store, "ingest", str(folder), KB_PROGRESS_SECONDS="3600")
    assert not any(line.startswith("ingesting") for line in quiet.stderr.splitlines())
    assert any(str(broken) in line for line in quiet.stderr.splitlines())
