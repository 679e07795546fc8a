"""What the keyword index's parts (one per marking) cost a search: the same passages in one part,
then spread over four markings, searched by a reader of every part and by a reader of one.

Passages are SciFact's abstracts (../shared), written straight into a store with no vectors
(keyword search reads none), so only the keyword index is measured. Prints a table with each
case's p50 and p95 beside the one-part baseline measured in the same run.

    .venv/bin/python bench/keyword_parts.py [--documents 5000] [--queries 300]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kb.access import LEVELS, Viewer  # noqa: E402
from kb.keywords.index import KeywordIndex  # noqa: E402
from kb.keywords.query import parse_query  # noqa: E402
from kb.models import ChunkDraft, DocumentDraft  # noqa: E402
from kb.settings import Settings  # noqa: E402
from kb.store.sqlite.store import SQLiteStore  # noqa: E402

SCIFACT = ROOT.parent / "shared" / "corpora" / "beir-scifact"


def drafts(documents: int, spread: bool) -> list[DocumentDraft]:
    found: list[DocumentDraft] = []
    with (SCIFACT / "corpus.jsonl").open() as handle:
        for n, line in enumerate(handle):
            if n == documents:
                break
            record = json.loads(line)
            text = record["text"] or record["title"]
            found.append(
                DocumentDraft(
                    document_id=f"d{record['_id']}",
                    title=record["title"],
                    doc_type="other",
                    source_name="scifact",
                    sha256=f"sha-{record['_id']}",
                    metadata={},
                    date=None,
                    chunks=(ChunkDraft(0, text, None, 1, 1, 0, len(text)),),
                    classification=LEVELS[n % 4] if spread else "public",
                )
            )
    return found


def timed(index: KeywordIndex, queries: list[str], viewer: Viewer | None) -> list[float]:
    spent = []
    for query in queries:
        parsed = parse_query(query)
        start = time.perf_counter()
        hits = index.search(parsed, 200, None, viewer)
        spent.append((time.perf_counter() - start) * 1000)
        assert hits is not None
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=5000)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    if not SCIFACT.is_dir():
        sys.exit(f"needs the SciFact corpus at {SCIFACT}")
    with (SCIFACT / "queries.jsonl").open() as handle:
        queries = [json.loads(line)["text"] for line in handle][: args.queries]
    rows: list[tuple[str, list[float]]] = []
    with tempfile.TemporaryDirectory() as folder:
        for name, spread in (("one part", False), ("four parts", True)):
            store = SQLiteStore(Path(folder) / name.replace(" ", "-"))
            written = drafts(args.documents, spread)
            store.write_documents(written, [np.zeros((1, 1), np.float32) for _ in written])
            settings = Settings(store=store.folder)
            index = KeywordIndex(store, settings, lambda: "")
            assert index.prepare()
            timed(index, queries[:20], None)  # warm
            if spread:
                rows.append((f"{name}, a reader of all four", timed(index, queries, None)))
                public = Viewer("pia", "reader", "public")
                rows.append((f"{name}, a reader of one", timed(index, queries, public)))
            else:
                rows.append((f"{name} (baseline)", timed(index, queries, None)))
            store.close()
    base = statistics.median(rows[0][1])
    print(
        f"keyword parts, {datetime.now():%Y-%m-%d %H:%M}, {platform.machine()}, "
        f"{args.documents} SciFact abstracts, {len(queries)} queries, top 200\n"
    )
    print("| case | p50 ms | p95 ms | p50 vs one part |")
    print("|---|---:|---:|---:|")
    for name, spent in rows:
        p50, p95 = statistics.median(spent), float(np.percentile(spent, 95))
        print(f"| {name} | {p50:.2f} | {p95:.2f} | {p50 / base:.2f}x |")


if __name__ == "__main__":
    main()
