"""The HTTP half of bench/scale.py: `kb serve` on a store as a subprocess, time until its
first successful search, its memory, and a load of concurrent clients on loopback for a
bounded number of seconds."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
KB = ROOT / ".venv" / "bin" / "kb"
READY_WAIT = 300.0  # seconds; a server that takes longer is reported as not ready
# The `kb` command of the checkout in the working folder (which comes first on sys.path).
RUN_KB = "import sys; sys.argv[0] = 'kb'; from api.cli import main; main()"


@dataclass(frozen=True)
class Request:
    """One search as the client sends it."""

    body: dict[str, Any]
    key: str


def environment(store: Path) -> dict[str, str]:
    return {
        **os.environ,
        "KB_STORE": str(store),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }


def user_key(
    store: Path, name: str, role: str, clearance: str, extra: dict[str, str] | None = None
) -> str:
    """An API key for a bench user (made, or its key rotated, with the real CLI); `extra`:
    more environment (KB_DATABASE_URL)."""
    env = {**environment(store), **(extra or {})}
    made = subprocess.run(
        [
            str(KB),
            "--store",
            str(store),
            "users",
            "add",
            name,
            "--role",
            role,
            "--clearance",
            clearance,
            "--json",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    if made.returncode != 0:
        made = subprocess.run(
            [str(KB), "--store", str(store), "users", "rotate-key", name, "--json"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
    key: str = json.loads(made.stdout)["api_key"]
    return key


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def memory_of(pid: int) -> tuple[float, float]:
    """VmRSS and VmHWM of a process, MiB."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far, seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentiles(seconds: list[float]) -> dict[str, float]:
    if not seconds:
        return {"p50": float("nan"), "p95": float("nan"), "p99": float("nan")}
    ms = np.asarray(seconds) * 1000
    return {f"p{p}": float(np.percentile(ms, p)) for p in (50, 95, 99)}


class Server:
    """`kb serve` on the store, started and stopped here; with `code`, the `kb` of another
    checkout (a baseline), run by this venv's Python from that folder."""

    def __init__(
        self,
        store: Path,
        log: Path,
        code: Path | None = None,
        extra: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = log.open("w")
        self.started = time.perf_counter()
        command = [str(KB)] if code is None else [sys.executable, "-c", RUN_KB]
        self.process = subprocess.Popen(
            [*command, "--store", str(store), "serve", "--port", str(self.port)],
            env={**environment(store), **(extra or {})},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=code,
        )

    def wait_ready(self, key: str) -> float | None:
        """Seconds from start to the first successful search; None if it never came."""
        with httpx.Client(base_url=self.url, timeout=30.0) as client:
            while time.perf_counter() - self.started < READY_WAIT:
                if self.process.poll() is not None:
                    return None
                try:
                    answer = client.get("/search", params={"q": "ceasefire"}, headers=bearer(key))
                    if answer.status_code == 200:
                        return time.perf_counter() - self.started
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
        return None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # a clean shutdown, as Ctrl-C
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def load(
    url: str | list[str], requests: list[Request], clients: int, seconds: float
) -> dict[str, Any]:
    """`clients` threads, each with its own connection, searching back to back for `seconds`;
    searches/s counts the successful ones over the whole span. With several URLs (replicas of
    one store), the clients are spread over them in turn, as a round-robin balancer would."""
    urls = [url] if isinstance(url, str) else url
    took: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client(number: int) -> None:
        mine, theirs = [], []
        with httpx.Client(base_url=urls[number % len(urls)], timeout=60.0) as http:
            turn = number
            while time.perf_counter() < deadline:
                request = requests[turn % len(requests)]
                turn += clients
                start = time.perf_counter()
                try:
                    answer = http.post("/search", json=request.body, headers=bearer(request.key))
                    if answer.status_code == 200:
                        mine.append(time.perf_counter() - start)
                    else:
                        theirs.append(str(answer.status_code))
                except httpx.TransportError as exc:
                    theirs.append(type(exc).__name__)
        with lock:
            took.extend(mine)
            errors.extend(theirs)

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    span = time.perf_counter() - started
    return {
        "clients": clients,
        "seconds": span,
        "searches": len(took),
        "per_second": len(took) / span,
        "errors": len(errors),
        "error_kinds": sorted(set(errors)),
        **percentiles(took),
    }
