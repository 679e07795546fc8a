"""One peer (Chroma or txtai) on a BEIR corpus, run by bench/peers.py inside the peers' venv.

    bench/out/peers-venv/bin/python bench/peers_runner.py < job.json

Reads a job as JSON on stdin: {"system", "model", "corpus", "workdir", "queries": [[id, text]],
"limit", "depth", "warmup"}. Writes one JSON object on stdout: the peer's version, its ingest
time, one latency per query (top `limit`, one query at a time, after `warmup` untimed queries)
and the top `depth` document ids per query, which the parent scores with our own code. Imports
nothing of Precedent: this runs beside it, not in it.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Callable, Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

Search = Callable[[str, int], list[str]]
BATCH = 1000  # documents handed to a peer per call while ingesting


def read_corpus(path: Path) -> Iterator[tuple[str, str]]:
    """(id, text) per record; the title leads the text, as BEIR gives it to dense models."""
    with path.open(encoding="utf-8-sig") as lines:
        for line in lines:
            if line.strip():
                record = json.loads(line)
                title = str(record.get("title") or "").strip()
                text = str(record.get("text") or "").strip()
                yield str(record["_id"]), f"{title}\n{text}" if title else text


def batches(items: Iterator[tuple[str, str]], size: int) -> Iterator[list[tuple[str, str]]]:
    batch: list[tuple[str, str]] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def run_chroma(job: dict[str, Any]) -> tuple[dict[str, str], int, float, Search]:
    import chromadb
    from chromadb.config import Settings
    from chromadb.utils.embedding_functions import SentenceTransformerEmbeddingFunction

    # Chroma's default embedding function downloads an ONNX model; this one loads our packaged
    # model folder through sentence-transformers, normalised as ours is.
    embed = SentenceTransformerEmbeddingFunction(
        model_name=job["model"], device="cpu", normalize_embeddings=True, local_files_only=True
    )
    embed(["warm up"])  # load the model outside the timing, as the parent does for ours
    client = chromadb.PersistentClient(
        path=str(Path(job["workdir"]) / "chroma"), settings=Settings(anonymized_telemetry=False)
    )
    collection = client.create_collection(
        "scifact", embedding_function=embed, configuration={"hnsw": {"space": "cosine"}}
    )
    count = 0
    started = time.perf_counter()
    for batch in batches(read_corpus(Path(job["corpus"])), BATCH):
        collection.add(ids=[i for i, _ in batch], documents=[t for _, t in batch])
        count += len(batch)
    seconds = time.perf_counter() - started

    def search(text: str, limit: int) -> list[str]:
        # The text comes back too, as our search returns passages.
        found = collection.query(
            query_texts=[text], n_results=limit, include=["documents", "distances"]
        )
        return [str(i) for i in found["ids"][0]]

    return {"chromadb": version("chromadb")}, count, seconds, search


def run_txtai(job: dict[str, Any], hybrid: bool) -> tuple[dict[str, str], int, float, Search]:
    from txtai import Embeddings

    # content=True keeps the text in txtai's SQLite, as our store and Chroma keep it; the index
    # is saved to disk inside the timing, since ours and Chroma's are on disk when ingest ends.
    config: dict[str, Any] = {
        "path": job["model"],
        "method": "sentence-transformers",
        "content": True,
        "hybrid": hybrid,
    }
    models: dict[str, Any] = {}  # shared, so the warm-up loads the model outside the timing
    Embeddings(models=models, **config).index([("warm", "warm up", None)])
    embeddings = Embeddings(models=models, **config)
    started = time.perf_counter()
    embeddings.index((i, t, None) for i, t in read_corpus(Path(job["corpus"])))
    embeddings.save(str(Path(job["workdir"]) / "txtai"))
    seconds = time.perf_counter() - started
    count = int(embeddings.count())

    def search(text: str, limit: int) -> list[str]:
        return [str(hit["id"]) for hit in embeddings.search(text, limit)]

    return {"txtai": version("txtai")}, count, seconds, search


def main() -> None:
    job = json.load(sys.stdin)
    out = sys.stdout
    # Libraries print progress and notices; only our JSON may reach the parent's pipe.
    with contextlib.redirect_stdout(sys.stderr):
        system = job["system"]
        if system == "chroma":
            versions, count, seconds, search = run_chroma(job)
        elif system in ("txtai", "txtai-hybrid"):
            versions, count, seconds, search = run_txtai(job, system == "txtai-hybrid")
        else:
            sys.exit(f"peers_runner: unknown system {system!r}")
        queries = [(str(q), str(t)) for q, t in job["queries"]]
        for _, text in queries[: job["warmup"]]:
            search(text, job["limit"])
        latencies = []
        for _, text in queries:
            started = time.perf_counter()
            search(text, job["limit"])
            latencies.append((time.perf_counter() - started) * 1000)
        ranked = {query_id: search(text, job["depth"]) for query_id, text in queries}
    for package in ("sentence-transformers", "torch"):
        versions[package] = version(package)
    result = {
        "system": system,
        "versions": versions,
        "documents": count,
        "ingest_seconds": seconds,
        "latencies_ms": latencies,
        "ranked": ranked,
    }
    out.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
