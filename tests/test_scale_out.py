"""Scale-out on one PostgreSQL: two API servers and two ingest workers, each its own process
on loopback with its own cache folder; concurrent uploads and searches; a worker killed with
SIGKILL in the middle of a job. Nothing lost, nothing duplicated."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kb.settings import Settings
from kb.users import Users
from tests.postgres_server import PostgresServer, free_ports, new_database

KB = Path(sys.executable).parent / "kb"
TOPICS = ("ceasefire", "refugees", "elections", "fisheries", "amnesty", "water", "land", "courts")


def document(n: int) -> tuple[str, bytes]:
    topic = TOPICS[n % len(TOPICS)]
    text = f"Report {n} on {topic}: the {topic} provisions of accord number {n} were reviewed."
    return f"report-{n:03d}.txt", (text + " " + "Further detail follows. " * 40).encode()


@pytest.fixture
def cluster(postgres: PostgresServer, tmp_path: Path) -> Iterator[dict[str, Any]]:
    url = new_database(postgres)
    with Users(Settings(store=tmp_path / "setup", database_url=url)) as users:
        key = users.add("admin", "admin", "confidential")[1]
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "KB_DATABASE_URL": url,
        "KB_SERVE_WORKERS": "0",  # the workers below do the ingest
        "KB_JOB_LEASE_SECONDS": "2",
        "KB_JOB_POLL_SECONDS": "0.2",
    }
    env.pop("KB_STORE", None)
    processes: dict[str, subprocess.Popen[bytes]] = {}

    def start(name: str, *args: str) -> subprocess.Popen[bytes]:
        command = [str(KB), "--store", str(tmp_path / name), *args]
        with (tmp_path / f"{name}.log").open("wb") as log:  # the child keeps its own handle
            processes[name] = subprocess.Popen(command, env=env, stdout=log, stderr=log)
        return processes[name]

    ports = free_ports(2)
    for n, port in enumerate(ports):
        start(f"server{n}", "serve", "--port", str(port))
    for n in range(2):
        start(f"worker{n}", "worker")
    servers = [
        httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Bearer {key}"},
            timeout=60,
        )
        for port in ports
    ]
    deadline = time.monotonic() + 120
    for server in servers:
        while True:
            try:
                if server.get("/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the servers did not start"
            time.sleep(0.2)
    try:
        yield {"servers": servers, "processes": processes, "start": start, "logs": tmp_path}
    finally:
        for server in servers:
            server.close()
        for process in processes.values():
            process.kill()
            process.wait()


def follow(server: httpx.Client, job_id: str, until: Any, seconds: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        job: dict[str, Any] = server.get(f"/jobs/{job_id}").json()
        if until(job) or time.monotonic() > deadline:
            return job
        time.sleep(0.1)


@pytest.mark.slow
def test_two_servers_two_workers_and_a_worker_killed_midway(cluster: dict[str, Any]) -> None:
    one, two = cluster["servers"]
    searches: list[int] = []
    stop = threading.Event()

    def search_meanwhile() -> None:
        while not stop.is_set():
            for server in (one, two):
                searches.append(
                    server.get("/search", params={"q": "ceasefire provisions"}).status_code
                )

    searcher = threading.Thread(target=search_meanwhile)
    searcher.start()
    try:
        jobs = []
        for server, numbers in ((one, range(0, 30)), (two, range(30, 40))):
            parts = [("files", (name, data, "text/plain")) for name, data in map(document, numbers)]
            answer = server.post(
                "/documents", files=parts, data={"doc_type": "other", "background": "true"}
            )
            assert answer.status_code == 202, answer.text
            jobs.append(answer.json()["job_id"])
        # Followed through the other server: every server sees every job.
        started = follow(two, jobs[0], lambda j: j["done"] >= 2)
        assert started["state"] == "running", started
        pid = int(started["worker"].split(":")[1])
        victim = next(n for n, p in cluster["processes"].items() if p.pid == pid)
        os.kill(pid, signal.SIGKILL)
        cluster["processes"][victim].wait()
        finished = [
            follow(two if n else one, job_id, lambda j: j["state"] in ("done", "failed"))
            for n, job_id in enumerate(jobs)
        ]
    finally:
        stop.set()
        searcher.join()
    assert [j["state"] for j in finished] == ["done", "done"], finished
    assert finished[0]["attempts"] == 2  # the killed worker's job went to the other
    outcomes = [item for job in finished for item in job["items"]]
    assert len(outcomes) == 40
    assert {o["status"] for o in outcomes} <= {"added", "unchanged"}
    listed = two.get("/documents", params={"limit": 100}).json()
    assert sorted(d["document_id"] for d in listed["items"]) == [
        f"report-{n:03d}" for n in range(40)
    ]
    adds = one.get("/audit", params={"action": "add", "limit": 100}).json()
    assert sorted(e["document_id"] for e in adds["items"]) == [f"report-{n:03d}" for n in range(40)]
    assert searches and set(searches) == {200}
    query = f"report 37 on {TOPICS[37 % len(TOPICS)]}, accord number 37"
    found = one.get("/search", params={"q": query, "mode": "hybrid"}).json()
    assert found["results"][0]["document_id"] == "report-037"  # uploaded through the other
