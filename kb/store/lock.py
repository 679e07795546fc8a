"""One writer at a time per store, across processes: an advisory lock file in the store folder.

`fcntl.flock` is held by an open file, so the kernel drops it the moment its holder dies, even
by SIGKILL: a crashed ingest never leaves the store locked. The holder writes its pid, command
and start time into the file, so a writer that gives up can say who is in the way. Readers
never take the lock: SQLite's WAL lets them read while a writer writes.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from kb.errors import StoreBusyError
from kb.files import create_private_file, make_private_folder

LOCK_NAME = "writer.lock"
POLL_SECONDS = 0.05
COMMAND_CHARS = 120


def current_command() -> str:
    """This process's command line, short: `kb ingest corpus/` rather than the venv's path."""
    program = Path(sys.argv[0]) if sys.argv and sys.argv[0] else Path("python")
    # `python -m tool` runs tool/__main__.py: name the tool.
    name = f"python -m {program.parent.name}" if program.name == "__main__.py" else program.name
    words = [name, *sys.argv[1:]]
    command = " ".join(words)
    return command if len(command) <= COMMAND_CHARS else command[: COMMAND_CHARS - 1] + "…"


def describe_holder(folder: Path) -> str:
    """Who holds (or last held) the writer lock of the store in `folder`, for error messages."""
    try:
        holder = json.loads((folder / LOCK_NAME).read_text())
        return f"pid {holder['pid']} ({holder['command']}) since {holder['since']}"
    except (OSError, ValueError, KeyError, TypeError):
        # Absent, or caught between the holder's truncate and write: say what we know.
        return "another process"


class WriterLock:
    """The store's single-writer lock: reentrant within a thread, exclusive across processes."""

    def __init__(self, folder: Path, wait_seconds: float) -> None:
        self.folder = folder
        self.path = folder / LOCK_NAME
        self.wait_seconds = wait_seconds
        # Threads of one process queue here first; flock alone would let them all in, as
        # every thread would share the same open file.
        self._threads = threading.RLock()
        self._depth = 0
        self._file: IO[str] | None = None

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Hold the lock for a short critical section; wait up to `wait_seconds`, then raise
        StoreBusyError naming the holder."""
        deadline = time.monotonic() + self.wait_seconds
        if not self._threads.acquire(timeout=max(self.wait_seconds, 0.0)):
            raise self._busy()
        try:
            if self._depth == 0:
                self._file = self._acquire(deadline)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0 and self._file is not None:
                    self._file.close()  # closing the file releases the flock
                    self._file = None
        finally:
            self._threads.release()

    def _acquire(self, deadline: float) -> IO[str]:
        make_private_folder(self.folder)
        create_private_file(self.path)
        handle = self.path.open("a+", encoding="utf-8")
        try:
            while True:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise self._busy() from None
                    time.sleep(POLL_SECONDS)
            holder = {
                "pid": os.getpid(),
                "command": current_command(),
                "since": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps(holder))
            handle.flush()
        except BaseException:
            handle.close()
            raise
        return handle

    def _busy(self) -> StoreBusyError:
        return StoreBusyError(
            f"the store at {self.folder} is being written by {describe_holder(self.folder)}; "
            f"waited {self.wait_seconds:g} s (KB_WRITE_WAIT_SECONDS); try again"
        )
