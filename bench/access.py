"""What access control costs: search latency and quality with and without a viewer.

    .venv/bin/python bench/access.py [--corpus DIR] [--store DIR]

Reuses (or builds) the SciFact store of bench/scifact.py, marks every other document
confidential, then runs the 300 test queries in each mode three ways: full rights (no filter),
a confidential viewer (the visibility filter applied, everything visible) and an internal viewer
(half the documents hidden). Prints a Markdown table: p50/p95 ms, and the ratio to full rights
measured in the same run. Not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import statistics
import sys
import time
from datetime import date
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.pipeline import IngestOptions, ingest_files  # noqa: E402
from kb.access import Viewer  # noqa: E402
from kb.evaluation import read_qrels, read_queries  # noqa: E402
from kb.knowledge_base import KnowledgeBase  # noqa: E402
from kb.models import MODES, SearchRequest  # noqa: E402
from kb.settings import Settings  # noqa: E402


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared/corpora/beir-scifact")
    parser.add_argument("--store", type=Path, default=ROOT / "bench/out/scifact")
    args = parser.parse_args()
    if not (args.corpus / "corpus.jsonl").is_file():
        sys.exit(f"no SciFact corpus at {args.corpus} (expected ../shared/corpora/beir-scifact)")
    settings = Settings(store=args.store)
    with KnowledgeBase(settings) as kb:
        if kb.missing(["4983"]):
            ingest_files(kb, [args.corpus / "corpus.jsonl"], IngestOptions())
        # Every other document confidential (rowid parity): a scratch store, marked directly.
        with sqlite3.connect(settings.store / "kb.sqlite") as db:
            db.execute("UPDATE documents SET classification = 1 + 2 * (rowid % 2)")
        kb.store.set_meta("generation", str(kb.store.generation() + 1))
        kb.embedder.encode_queries(["warm up"])
        qrels = read_qrels(args.corpus / "qrels" / "test.tsv")
        queries = read_queries(args.corpus / "queries.jsonl", set(qrels))
        viewers = {
            "full rights": None,
            "confidential viewer (all visible)": Viewer("c", "reader", "confidential"),
            "internal viewer (half hidden)": Viewer("i", "reader", "internal"),
        }
        print(
            f"Access control cost, SciFact test queries ({len(queries)}), {date.today()}, "
            f"{platform.node()}, {os.cpu_count()} cores\n"
        )
        print("| mode | who | visible docs | p50 ms | p95 ms | p50 / full rights |")
        print("|---|---|---|---|---|---|")
        for mode in MODES:
            base = 0.0
            for label, viewer in viewers.items():
                latencies = []
                for query in queries:
                    request = SearchRequest(query.text, mode=mode, limit=10)
                    started = time.perf_counter()
                    kb.search(request, viewer)
                    latencies.append((time.perf_counter() - started) * 1000)
                p50 = percentile(latencies, 50)
                base = base or p50
                visible = kb.stats(viewer).documents
                print(
                    f"| {mode} | {label} | {visible} | {p50:.1f} | "
                    f"{percentile(latencies, 95):.1f} | {p50 / base:.2f} |"
                )


if __name__ == "__main__":
    main()
