"""Retrieval quality at scale: SciFact's train queries against a store built by bench/scale.py,
for the default settings and any others given, side by side with their latency.

    .venv/bin/python bench/scale_quality.py [--size 1m] [--out bench/out/scale] [--queries 300]
        [--set keyword_max_postings=5000] [--set keyword_max_rows=2000,candidates=300] ...

The store holds SciFact and the UN General Debate speeches, then variants of every document
(sentences shuffled, a few words swapped, new ids `ID-vN`): hundreds of thousands of
distractors, and near-copies of each relevant document. Results are scored by source
document: a variant counts as the document it varies, and only a source's first appearance
counts, so a ranking of ten copies of one abstract scores as one document. Gains come from
SciFact's train judgments (never the test split: this is where settings are tuned).
nDCG@10 and recall@100 at that level, and the search's latency in process (ms).
Prints a Markdown table; nothing here asserts.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
from scale import label, parse_size  # noqa: E402
from scale_corpus import SCIFACT  # noqa: E402

from kb.evaluation import ndcg, read_qrels, read_queries, recall  # noqa: E402
from kb.knowledge_base import KnowledgeBase  # noqa: E402
from kb.models import Mode, SearchRequest  # noqa: E402
from kb.settings import Settings  # noqa: E402

VARIANT = re.compile(r"-v\d+$")
MODES: tuple[Mode, ...] = ("keyword", "hybrid")
DEPTH = 100  # precedents asked for: enough to hold 100 distinct sources most of the time


def source(document_id: str) -> str:
    """The real document a variant varies (itself for a real one)."""
    return VARIANT.sub("", document_id)


def parse_config(text: str) -> dict[str, str]:
    pairs = [p.split("=", 1) for p in text.split(",") if p.strip()]
    return {k.strip(): v.strip() for k, v in pairs}


def measure(
    store: Path, config: dict[str, str], queries: list[Any], qrels: dict[str, dict[str, int]]
) -> dict[str, dict[str, float]]:
    settings = Settings(store=store, **config)  # type: ignore[arg-type]
    row: dict[str, dict[str, float]] = {}
    with KnowledgeBase(settings) as kb:
        kb.embedder.encode_queries(["warm up"])
        kb.index()
        for mode in MODES:
            for query in queries[:5]:  # caches: selectivity counts, owners
                kb.search(SearchRequest(query.text, mode=mode, limit=DEPTH))
            gains, found, took = [], [], []
            for query in queries:
                began = time.perf_counter()
                response = kb.search(SearchRequest(query.text, mode=mode, limit=DEPTH))
                took.append((time.perf_counter() - began) * 1000)
                ranked = list(dict.fromkeys(source(r.document_id) for r in response.results))
                judged = {f"scifact-{d}": g for d, g in qrels[query.query_id].items()}
                gains.append(ndcg(ranked, judged))
                found.append(recall(ranked, judged, DEPTH))
            row[mode] = {
                "ndcg": float(np.mean(gains)),
                "recall": float(np.mean(found)),
                "p50": float(np.percentile(took, 50)),
                "p95": float(np.percentile(took, 95)),
            }
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=parse_size, default=parse_size("1m"))
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "scale")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument(
        "--set", action="append", default=[], help="a configuration: KEY=VALUE[,KEY=VALUE]"
    )
    args = parser.parse_args()
    store = args.out.resolve() / f"store-{label(args.size)}"
    if not store.exists():
        sys.exit(f"no store at {store}: build it with bench/scale.py --sizes {label(args.size)}")
    qrels = read_qrels(SCIFACT / "qrels" / "train.tsv")
    queries = read_queries(SCIFACT / "queries.jsonl", set(qrels))[: args.queries]
    configs = [{}] + [parse_config(c) for c in args.set]
    rows = []
    for config in configs:
        print(f"measuring {config or 'defaults'} ...", file=sys.stderr, flush=True)
        rows.append((config, measure(store, config, queries, qrels)))
    print(
        f"bench/scale_quality.py --size {label(args.size)} --queries {len(queries)}; "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}. SciFact train queries "
        f"against {store.name}, scored by source document (variants count as their source).\n"
    )
    print("| settings | mode | nDCG@10 | recall@100 | p50 ms | p95 ms |")
    print("|---|---|---:|---:|---:|---:|")
    for config, row in rows:
        name = ", ".join(f"{k}={v}" for k, v in config.items()) or "defaults"
        for mode in MODES:
            m = row[mode]
            print(
                f"| {name} | {mode} | {m['ndcg']:.4f} | {m['recall']:.4f} "
                f"| {m['p50']:.1f} | {m['p95']:.1f} |"
            )


if __name__ == "__main__":
    main()
