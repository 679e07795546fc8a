"""Dense search on the PostgreSQL backend, two ways, at 100k passages: pgvector's HNSW index in
the database, or each API server's FAISS cache kept in sync from it (what the backend does).

    nice -n 10 .venv/bin/python bench/pgvector.py --store bench/out/scale/store-100k
        [--queries 200] [--out bench/out/pgvector]

--store is an embedded store (bench/scale.py builds one at 100k). It is moved into a new
database with `kb migrate`'s code (timed: that is the migration at this size), then:
- FAISS cache: a knowledge base on the database builds its index cache from the database
  (timed: a new server's first start; exact first, then the approximate index the size asks
  for, in the background) and answers top-200 searches from the latter;
- pgvector: an HNSW index (m=16, ef_construction=64) on the vectors, built in the database
  (timed, with its size), answering `ORDER BY vector <#> query LIMIT 200` at ef_search 40, 100
  and 200 (it returns at most ef_search rows: 200 candidates need ef_search 200).
Queries: SciFact test queries embedded by the real model. Recall@10 of each against exact
search over the same vectors (NumPy). Latency is per query, one at a time, in this process.
Prints a Markdown table (also written to --out); nothing here asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from kb.embedding.backends import make_embedder  # noqa: E402
from kb.knowledge_base import KnowledgeBase  # noqa: E402
from kb.settings import Settings  # noqa: E402
from kb.store.postgres.dialect import vector_text  # noqa: E402
from kb.store.sqlite.store import SQLiteStore  # noqa: E402
from kb.transfer import transfer_store  # noqa: E402
from tests.postgres_server import start_postgres  # noqa: E402

SCIFACT = ROOT.parent / "shared" / "corpora" / "beir-scifact"
TOP = 200  # candidates a search asks for (KB_CANDIDATES)
HNSW = (
    "CREATE INDEX vectors_hnsw ON vectors USING hnsw ((vector::vector({dim})) vector_ip_ops) "
    "WITH (m = 16, ef_construction = 64)"
)
NEAREST = (
    "SELECT chunk_id FROM vectors ORDER BY (vector::vector({dim})) <#> %s::vector({dim}) "
    "LIMIT {top}"
)


def percentiles(seconds: list[float]) -> tuple[float, float]:
    ms = np.asarray(seconds) * 1000
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 95))


def recall(found: list[list[int]], truth: list[list[int]]) -> float:
    return float(
        np.mean([len(set(f[:10]) & set(t)) / len(t) for f, t in zip(found, truth, strict=True)])
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", type=Path, default=ROOT / "bench/out/scale/store-100k")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "pgvector")
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    args.out.mkdir(parents=True)
    with (SCIFACT / "queries.jsonl").open() as lines:
        texts = [json.loads(line)["text"] for line in lines][: args.queries]
    embedder = make_embedder(Settings())
    queries = embedder.encode_queries(texts)
    source = SQLiteStore(args.store)
    ids, vectors = source.all_vectors(embedder.dimension)
    source.close()
    exact = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]
    truth = [[int(ids[j]) for j in row] for row in exact]
    rows: list[tuple[str, str]] = [("passages (vectors)", f"{len(ids):,}")]

    server = start_postgres()
    try:
        url = server.url()
        started = time.perf_counter()
        transfer_store(args.store, url, args.out / "cache")
        rows.append(("`kb migrate` into the database", f"{time.perf_counter() - started:.1f} s"))

        settings = Settings(store=args.out / "cache", database_url=url)
        started = time.perf_counter()
        with KnowledgeBase(settings, embedder=embedder) as kb:
            kb.index()  # exact at once; the approximate index of this size follows in background
            ready = f"{time.perf_counter() - started:.1f} s"
            rows.append(("FAISS cache: exact index from the database", ready))
            kb.index_cache.wait()
            index = kb.index()
            ready = f"{time.perf_counter() - started:.1f} s"
            rows.append((f"FAISS cache: {index.kind} index from the database", ready))
            took, found = [], []
            for query in queries:
                began = time.perf_counter()
                _, hits = index.search(query[None, :], TOP)
                took.append(time.perf_counter() - began)
                found.append([int(i) for i in hits[0]])
        p50, p95 = percentiles(took)
        rows.append((f"FAISS cache ({index.kind}): search p50 / p95", f"{p50:.2f} / {p95:.2f} ms"))
        rows.append((f"FAISS cache ({index.kind}): recall@10", f"{recall(found, truth):.3f}"))

        dim = embedder.dimension
        with psycopg.connect(url, autocommit=True) as db:
            db.execute("SET maintenance_work_mem = '1GB'")
            started = time.perf_counter()
            db.execute(HNSW.format(dim=dim).encode())
            rows.append(("pgvector HNSW build", f"{time.perf_counter() - started:.1f} s"))
            size = db.execute("SELECT pg_relation_size('vectors_hnsw')").fetchone()
            rows.append(("pgvector HNSW size", f"{(size[0] if size else 0) / 2**20:.0f} MB"))
            statement = NEAREST.format(dim=dim, top=TOP).encode()
            for ef in (40, 100, 200):
                db.execute(f"SET hnsw.ef_search = {ef}".encode())
                took, found = [], []
                for query in queries:
                    text = vector_text(query)
                    began = time.perf_counter()
                    hits = db.execute(statement, (text,)).fetchall()
                    took.append(time.perf_counter() - began)
                    found.append([int(h[0]) for h in hits])
                p50, p95 = percentiles(took)
                rows.append(
                    (f"pgvector ef_search={ef}: search p50 / p95", f"{p50:.2f} / {p95:.2f} ms")
                )
                rows.append((f"pgvector ef_search={ef}: recall@10", f"{recall(found, truth):.3f}"))
    finally:
        server.stop()
    header = (
        f"pgvector vs FAISS cache, {time.strftime('%Y-%m-%d %H:%M')}, "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
        f"store {args.store.name}, {len(texts)} SciFact queries, top {TOP}"
    )
    table = "\n".join(
        [header, "", "| measure | value |", "|---|---:|", *(f"| {a} | {b} |" for a, b in rows)]
    )
    print(table)
    (args.out / "RESULTS.md").write_text(table + "\n")


if __name__ == "__main__":
    main()
