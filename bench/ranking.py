"""Ranking quality: keyword, dense, naive RRF and the default pipeline, on every task.

    .venv/bin/python bench/ranking.py [--fresh]

Tasks: SciFact (test split, ../shared/corpora/beir-scifact) and our PA-X development set
(bench/eval/pax-dev, split dev). Stores are kept under bench/out/ and reused unless --fresh.
Prints one Markdown table for bench/RESULTS.md. Not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.pipeline import IngestOptions, ingest_files  # noqa: E402
from kb.embedding.backends import make_embedder  # noqa: E402
from kb.evaluation import Scores, evaluate, read_qrels, read_queries  # noqa: E402
from kb.knowledge_base import KnowledgeBase  # noqa: E402
from kb.models import Mode, SearchRequest  # noqa: E402
from kb.settings import Settings  # noqa: E402


@dataclass(frozen=True)
class Task:
    name: str
    folder: Path
    split: str
    store: str  # under bench/out/, shared with bench/scifact.py


TASKS = (
    Task("SciFact test", ROOT.parent / "shared/corpora/beir-scifact", "test", "scifact"),
    Task("pax-dev", ROOT / "bench/eval/pax-dev", "dev", "pax"),
)
# The baselines run bare: no aspects, no diversity.
BARE: dict[str, object] = {"aspect_min_words": 1_000_000, "diversity": 0.0}
# (row name, mode, settings overrides)
ROWS: tuple[tuple[str, Mode, dict[str, object]], ...] = (
    ("keyword (FTS5 BM25)", "keyword", BARE),
    ("dense (MiniLM)", "dense", BARE),
    ("naive RRF (k=60)", "hybrid", {**BARE, "fusion": "rrf", "rrf_k": 60}),
    ("default pipeline", "hybrid", {}),
)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--fresh", action="store_true", help="Rebuild the stores from scratch.")
    args = parser.parse_args()
    embedder = make_embedder(Settings())
    lines = []
    for task in TASKS:
        if not (task.folder / "corpus.jsonl").is_file():
            print(f"skipping {task.name}: no corpus at {task.folder}", file=sys.stderr)
            continue
        store = ROOT / "bench/out" / task.store
        if args.fresh and store.exists():
            shutil.rmtree(store)
        with KnowledgeBase(Settings(store=store), embedder=embedder) as kb:
            ingest_files(kb, [task.folder / "corpus.jsonl"], IngestOptions())
        qrels = read_qrels(task.folder / "qrels" / f"{task.split}.tsv")
        queries = read_queries(task.folder / "queries.jsonl", set(qrels))
        for name, mode, overrides in ROWS:
            settings = Settings(store=store, **overrides)  # type: ignore[arg-type]
            with KnowledgeBase(settings, embedder=embedder) as kb:
                scores = evaluate(kb.search_batch, queries, qrels, mode)
                latency = ""
                if name == "default pipeline":
                    p50, p95 = measure(kb, [q.text for q in queries], mode)
                    latency = f"{p50:.1f} / {p95:.1f}"
            lines.append(row(task.name, name, scores, latency))
    print(
        f"Ranking, {time.strftime('%Y-%m-%d')}, {platform.node()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    print()
    print("| task | ranker | nDCG@10 | Recall@10 | Recall@100 | MRR@10 | queries | p50 / p95 ms |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(lines))


def measure(kb: KnowledgeBase, texts: list[str], mode: Mode) -> tuple[float, float]:
    """Per-query latency in process, one query at a time, as a user would send them."""
    timings = []
    for text in texts:
        started = time.perf_counter()
        kb.search(SearchRequest(text, mode=mode, limit=10))
        timings.append((time.perf_counter() - started) * 1000)
    cuts = statistics.quantiles(timings, n=100, method="inclusive")
    return cuts[49], cuts[94]


def row(task: str, name: str, scores: Scores, latency: str) -> str:
    return (
        f"| {task} | {name} | {scores.ndcg_10:.4f} | {scores.recall_10:.4f} "
        f"| {scores.recall_100:.4f} | {scores.mrr_10:.4f} | {scores.queries} | {latency} |"
    )


if __name__ == "__main__":
    main()
