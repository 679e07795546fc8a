"""SciFact benchmark: ingest speed, query latency and retrieval quality for the three modes.

    .venv/bin/python bench/scifact.py [--corpus DIR] [--store DIR] [--reuse]

Prints a Markdown table to paste into bench/RESULTS.md. Not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.pipeline import IngestOptions, ingest_files  # noqa: E402
from kb.evaluation import evaluate, read_qrels, read_queries  # noqa: E402
from kb.knowledge_base import KnowledgeBase  # noqa: E402
from kb.models import MODES, SearchRequest  # noqa: E402
from kb.settings import Settings  # noqa: E402

BASELINE_PASSAGES = 1000


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared/corpora/beir-scifact")
    parser.add_argument("--store", type=Path, default=ROOT / "bench/out/scifact")
    parser.add_argument(
        "--reuse", action="store_true", help="Keep an existing store (skip ingest timing)."
    )
    args = parser.parse_args()
    if not (args.corpus / "corpus.jsonl").is_file():
        sys.exit(f"no SciFact corpus at {args.corpus} (expected ../shared/corpora/beir-scifact)")
    if args.store.exists() and not args.reuse:
        shutil.rmtree(args.store)

    settings = Settings(store=args.store)
    with KnowledgeBase(settings) as kb:
        kb.embedder.encode_queries(["warm up"])  # load the model outside the timings
        started = time.perf_counter()
        report = ingest_files(kb, [args.corpus / "corpus.jsonl"], IngestOptions())
        ingest_seconds = time.perf_counter() - started
        stats = kb.stats()
        counts = report.counts()

        # Baselines in the same run: the bare model on the same passages and queries, so the
        # pipeline's own cost shows as a ratio whatever the machine.
        texts = [t for batch in kb.store.iter_chunk_texts(512) for _, t in batch]
        sample = texts[:BASELINE_PASSAGES]
        t = time.perf_counter()
        kb.embedder.encode_documents(sample)
        model_rate = len(sample) / (time.perf_counter() - t)

        qrels = read_qrels(args.corpus / "qrels" / "test.tsv")
        queries = read_queries(args.corpus / "queries.jsonl", set(qrels))
        model_latencies = []
        for query in queries:
            t = time.perf_counter()
            kb.embedder.encode_queries([query.text])
            model_latencies.append((time.perf_counter() - t) * 1000)
        model_p50 = percentile(model_latencies, 50)
        rows = []
        for mode in MODES:
            latencies = []
            for query in queries:
                t = time.perf_counter()
                kb.search(SearchRequest(query.text, mode=mode, limit=10))
                latencies.append((time.perf_counter() - t) * 1000)
            scores = evaluate(kb.search_batch, queries, qrels, mode)
            rows.append((mode, scores, percentile(latencies, 50), percentile(latencies, 95)))

    print(
        f"SciFact (BEIR test split), {time.strftime('%Y-%m-%d')}, {platform.node()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print()
    rate = stats.chunks / ingest_seconds
    print(
        "| ingest | documents | chunks | seconds | chunks/s | docs/s | bare model chunks/s "
        "| ratio |"
    )
    print("|---|---|---|---|---|---|---|---|")
    print(
        f"| {counts['added']} added, {counts['unchanged']} unchanged, {counts['failed']} failed "
        f"| {stats.documents} | {stats.chunks} | {ingest_seconds:.1f} | {rate:.1f} "
        f"| {stats.documents / ingest_seconds:.1f} | {model_rate:.1f} | {rate / model_rate:.2f} |"
    )
    print()
    print(f"Query latency in process; the bare model embeds one query in {model_p50:.1f} ms (p50).")
    print()
    print(
        "| mode | nDCG@10 | recall@10 | recall@100 | MRR@10 | queries | p50 ms | p95 ms "
        "| p50 / bare model |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for mode, scores, p50, p95 in rows:
        print(
            f"| {mode} | {scores.ndcg_10:.4f} | {scores.recall_10:.4f} | {scores.recall_100:.4f} "
            f"| {scores.mrr_10:.4f} | {scores.queries} | {p50:.1f} | {p95:.1f} "
            f"| {p50 / model_p50:.2f} |"
        )


if __name__ == "__main__":
    main()
