"""Reading files within bounds: PDF, Word, HTML, text and Markdown are parsed (and OCR'd) in a
worker process (`ingest.worker`) with a wall-time and a memory limit, so a hostile file is
refused with a reason and never takes the server down.

One worker is started on first use and reused, file after file, so a small file costs a pipe
round trip, not a process start. A worker that overruns is killed with its process group
(Tesseract included); the next file gets a fresh one. The worker is a plain
`python -m ingest.worker` subprocess rather than a multiprocessing child: the parent may hold
torch and threads, which must not be forked, and nothing of the parent needs re-importing.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import kb.errors
from ingest.chunking import Page
from ingest.content import Content, ReadOptions
from ingest.readers import SANDBOXED_SUFFIXES, read_bytes
from ingest.worker import HEADER
from kb.errors import CorruptFileError, InputError, KBError, ParseLimitError
from kb.settings import Settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
POLL_SECONDS = 0.02  # how often the worker's memory is looked at while it parses
STARTUP_SECONDS = 60.0
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class Limits:
    """What one file may cost to parse."""

    timeout_seconds: float = 120.0
    memory_mb: int = 1024

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(settings.parse_timeout_seconds, settings.parse_memory_mb)


@dataclass(frozen=True)
class Parsed:
    """A file's content and the peak memory (RSS, MiB) of the worker that parsed it so far."""

    content: Content
    peak_mb: float


class Sandbox:
    """A reusable parsing worker under `Limits`; safe to share between threads."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.last_peak_mb = 0.0  # the worker's peak RSS after the last file, refused or not
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def read(self, name: str, data: bytes, options: ReadOptions) -> Content:
        """The file's pages, read in the worker; an InputError if refused or over a limit."""
        return self.parse(name, data, options).content

    def parse(self, name: str, data: bytes, options: ReadOptions) -> Parsed:
        with self._lock:
            reply = self._exchange(name, data, options)
        self.last_peak_mb = float(reply.get("peak_mb", 0.0))
        if reply.get("retire"):
            self.close()
        if not reply["ok"]:
            raise self._refusal(name, reply)
        pages = tuple(Page(int(n), str(text), bool(ocr)) for n, text, ocr in reply["pages"])
        return Parsed(Content(pages, reply["title"]), self.last_peak_mb)

    def close(self) -> None:
        """Stop the worker (it exits when its input closes; killed if it does not)."""
        with self._lock:
            process, self._process = self._process, None
        if process is None:
            return
        try:
            if process.stdin is not None:
                process.stdin.close()
            process.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            pass
        _kill(process)  # its Tesseract too, if any; and our ends of the pipes closed

    def abort(self) -> None:
        """Kill the worker now, from any thread: a parse under way ends as refused at once
        instead of at its time limit (`close` would wait for it). The next file gets a new
        worker."""
        process = self._process
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    # -- one request, one reply ----------------------------------------------------------

    def _exchange(self, name: str, data: bytes, options: ReadOptions) -> dict[str, Any]:
        header = json.dumps({"name": name, "size": len(data), "options": asdict(options)}).encode()
        for attempt in (1, 2):
            process = self._worker()
            deadline = time.monotonic() + self.limits.timeout_seconds
            try:
                assert process.stdin is not None
                process.stdin.write(HEADER.pack(len(header)) + header)
                process.stdin.write(data)
                process.stdin.flush()
            except BrokenPipeError:
                # The idle worker had gone (killed from outside): once more with a new one.
                self._discard()
                if attempt == 1:
                    continue
                return self._died(name, process)
            return self._reply(name, process, deadline)
        raise AssertionError("unreachable")

    def _reply(
        self, name: str, process: subprocess.Popen[bytes], deadline: float
    ) -> dict[str, Any]:
        reply = _receive(process, deadline, self.limits.memory_mb)
        if reply.get("kind") in ("timeout", "memory"):
            self._discard()
        elif reply.get("kind") == "died":
            return {**self._died(name, process), "peak_mb": reply["peak_mb"]}
        return reply

    def _died(self, name: str, process: subprocess.Popen[bytes]) -> dict[str, Any]:
        self._discard()
        code = process.returncode
        how = f"signal {signal.Signals(-code).name}" if code and code < 0 else f"exit {code}"
        return {
            "ok": False,
            "kind": "died",
            "reason": (
                f"the parsing process died reading it ({how}): the file is damaged or needs "
                f"more than {self.limits.memory_mb} MiB to parse (KB_PARSE_MEMORY_MB)"
            ),
        }

    def _refusal(self, name: str, reply: dict[str, Any]) -> InputError:
        kind = reply["kind"]
        if kind == "timeout":
            return ParseLimitError(
                name,
                f"took longer than {self.limits.timeout_seconds:g} s to parse "
                "(KB_PARSE_TIMEOUT_SECONDS)",
            )
        if kind == "memory":
            return ParseLimitError(
                name,
                f"needed more than {self.limits.memory_mb} MiB to parse (KB_PARSE_MEMORY_MB)",
            )
        if kind in ("died", "crash"):
            reason = str(reply["reason"])
            if kind == "crash":
                reason = f"the file cannot be read ({reason})"
            return CorruptFileError(name, reason)
        error = getattr(kb.errors, str(kind), InputError)
        if not (isinstance(error, type) and issubclass(error, InputError)):
            error = InputError
        return error(name, str(reply["reason"]))

    # -- the worker process ----------------------------------------------------------------

    def _worker(self) -> subprocess.Popen[bytes]:
        if self._process is None or self._process.poll() is not None:
            env = {
                **os.environ,
                # One thread each: Tesseract's OpenMP threads only contend on a busy server.
                "OMP_THREAD_LIMIT": "1",
                "OPENBLAS_NUM_THREADS": "1",
                "PYTHONPATH": os.pathsep.join(
                    p for p in (str(PROJECT_ROOT), os.environ.get("PYTHONPATH")) if p
                ),
            }
            process = subprocess.Popen(
                [sys.executable, "-m", "ingest.worker", str(self.limits.memory_mb)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=env,
                start_new_session=True,  # its own process group: killed with its children
            )
            # Its start-up (imports) is not charged to the first file's time.
            ready = _receive(process, time.monotonic() + STARTUP_SECONDS, None)
            if not ready.get("ready"):
                _kill(process)
                raise KBError(f"the parsing worker did not start ({ready.get('kind')})")
            self._process = process
        return self._process

    def _discard(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            _kill(process)


def _kill(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()
    for stream in (process.stdin, process.stdout):
        if stream is not None:
            try:
                stream.close()
            except OSError:
                pass  # a broken pipe's unflushed bytes


def _receive(
    process: subprocess.Popen[bytes], deadline: float, memory_mb: int | None
) -> dict[str, Any]:
    """The worker's next message; {"kind": "timeout" | "memory" | "died"} if none comes.

    Waits in short steps to watch the resident memory of the worker and its children
    (Tesseract): over `memory_mb`, the wait ends.
    """
    assert process.stdout is not None
    fd = process.stdout.fileno()
    buffer = bytearray()
    needed = HEADER.size
    peak = 0.0
    while len(buffer) < needed:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return {"ok": False, "kind": "timeout", "peak_mb": peak}
        if memory_mb is not None:
            peak = max(peak, resident_mb(process.pid))
            if peak > memory_mb:
                return {"ok": False, "kind": "memory", "peak_mb": peak}
        if not select.select([fd], [], [], min(remaining, POLL_SECONDS))[0]:
            continue
        chunk = os.read(fd, max(needed - len(buffer), 65536))
        if not chunk:
            return {"ok": False, "kind": "died", "peak_mb": peak}
        buffer.extend(chunk)
        if needed == HEADER.size and len(buffer) >= HEADER.size:
            needed += HEADER.unpack(bytes(buffer[: HEADER.size]))[0]
    reply: dict[str, Any] = json.loads(bytes(buffer[HEADER.size : needed]))
    reply["peak_mb"] = max(peak, float(reply.get("peak_mb", 0.0)))
    return reply


def resident_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MiB (0 once it is gone)."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/statm") as statm:
                total += int(statm.read().split()[1])
            with open(f"/proc/{current}/task/{current}/children") as children:
                pending.extend(int(child) for child in children.read().split())
        except (OSError, ValueError, IndexError):
            continue  # it ended meanwhile
    return total * PAGE_BYTES / 1048576


_shared: dict[Limits, Sandbox] = {}
_shared_lock = threading.Lock()


def shared_sandbox(limits: Limits) -> Sandbox:
    """The process's worker for these limits, started on first use and stopped at exit.

    Callers (the HTTP routes, the CLI) hold no handle of their own, and a worker must outlive
    one call to be worth reusing, so it lives here, keyed by its limits.
    """
    with _shared_lock:
        sandbox = _shared.get(limits)
        if sandbox is None:
            sandbox = _shared[limits] = Sandbox(limits)
            atexit.register(sandbox.close)
        return sandbox


def read_bounded(name: str, data: bytes, settings: Settings) -> Content:
    """A file's pages, read in the bounded worker (only formats it does not read, in process)."""
    if Path(name).suffix.lower() not in SANDBOXED_SUFFIXES:
        return read_bytes(name, data)
    options = ReadOptions(
        ocr=settings.ocr == "auto", ocr_language=settings.ocr_language, ocr_dpi=settings.ocr_dpi
    )
    return shared_sandbox(Limits.from_settings(settings)).read(name, data, options)
