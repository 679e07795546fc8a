"""Keyword search latency at a million passages: p50/p95/p99 per query class.

    nice -n 10 .venv/bin/python bench/keyword.py [--passages 1000000] [--reuse] [--queries 30]

Builds (once; --reuse keeps it) a store under bench/out/keyword of N passages of real text: UN
General Debate speeches and SciFact abstracts from ../shared/corpora, cut by our chunker, then
repeated with light variation (sentences shuffled, one word in twenty dropped) until N passages.
Documents go in through the store's own `write_documents`, with ONE-DIMENSIONAL ZERO VECTORS:
keyword search never reads vectors, and embedding a million passages would take hours. A tenth
of the documents are confidential, a fifth restricted, a sixth belong to a need-to-know group.

Measures, one query at a time, as a non-admin viewer (internal clearance, one group):
`search` is `KnowledgeBase.search(mode="keyword")` whole (candidates, documents, snippets),
`fts` the bare keyword step (the FTS5 expression and `Store.keyword_search`). Query classes:
rare words, common words, few-word crisis queries, long briefs (two to three real passages,
200-400 words) and crisis queries with filters. Prints one Markdown table. Not a test.
To measure the code of another commit, run this script from a checkout of it (`git archive`)
with --reuse --store pointing at the same store.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.chunking import Page, chunk_pages  # noqa: E402
from kb.access import Viewer  # noqa: E402
from kb.keywords.query import fts_expression, parse_query  # noqa: E402
from kb.knowledge_base import KnowledgeBase  # noqa: E402
from kb.models import ChunkDraft, DocumentDraft, Filters, SearchRequest  # noqa: E402
from kb.settings import Settings  # noqa: E402
from kb.store.sqlite.store import SQLiteStore  # noqa: E402

CORPORA = ROOT.parent / "shared" / "corpora"
DEFAULT_STORE = ROOT / "bench" / "out" / "keyword"
SEED = 11
BATCH_DOCUMENTS = 400
SENTENCE = re.compile(r"(?<=[.!?])\s+")
VIEWER = Viewer(name="analyst", role="reader", clearance="internal", groups=("mediation",))

RARE = (
    "Tuvalu",
    "Bougainville",
    "mitochondrial",
    "microRNA",
    "Kiribati",
    "hydropower",
    "glioblastoma",
    "Nagorno-Karabakh",
)
COMMON = (
    "peace and security",
    "the agreement",
    "international peace",
    "security council",
    "peace agreement",
    "development of the united nations",
    "people",
    "world peace security development",
)
CRISIS = (
    "ceasefire monitoring Mindanao",
    "refugees humanitarian access Syria",
    "nuclear disarmament Iran",
    "climate change small island states",
    "terrorism in the Sahel",
    "piracy off the coast of Somalia",
    "Ebola outbreak response",
    "transitional justice Colombia",
)


def un_documents() -> Iterator[tuple[str, str, str, dict[str, object], str]]:
    for path in sorted((CORPORA / "un-general-debates" / "txt").glob("Session*/*.txt")):
        country, _, year = path.stem.split("_")
        meta = {"country": country, "year": int(year)}
        yield f"un-{path.stem}", f"{country} statement, {year}", "speech", meta, path.read_text()


def scifact_documents() -> Iterator[tuple[str, str, str, dict[str, object], str]]:
    with (CORPORA / "beir-scifact" / "corpus.jsonl").open() as lines:
        for line in lines:
            row = json.loads(line)
            yield f"sf-{row['_id']}", row["title"], "abstract", {}, row["text"]


def base_documents() -> list[tuple[str, str, str, dict[str, object], list[ChunkDraft]]]:
    out = []
    for key, title, doc_type, meta, text in [*un_documents(), *scifact_documents()]:
        chunks = chunk_pages([Page(1, text)])
        if chunks:
            out.append((key, title, doc_type, meta, list(chunks)))
    return out


def vary(text: str, rng: random.Random) -> str:
    sentences = SENTENCE.split(text)
    rng.shuffle(sentences)
    return " ".join(w for w in " ".join(sentences).split(" ") if rng.random() >= 0.05)


def marking(rng: random.Random) -> tuple[str, tuple[str, ...]]:
    roll = rng.random()
    level = (
        "public"
        if roll < 0.4
        else "internal"
        if roll < 0.7
        else "restricted"
        if roll < 0.9
        else "confidential"
    )
    groups = (rng.choice(("mediation", "legal")),) if rng.random() < 1 / 6 else ()
    return level, groups


def build(folder: Path, passages: int) -> None:
    rng = random.Random(SEED)
    base = base_documents()
    supply = sum(len(c) for *_, c in base)
    print(f"real supply: {len(base)} documents, {supply} passages", file=sys.stderr)
    store = SQLiteStore(folder)
    written, copy, batch = 0, 0, []
    started = time.perf_counter()
    while written < passages:
        for key, title, doc_type, meta, chunks in base:
            if written >= passages:
                break
            if copy:
                chunks = [
                    ChunkDraft(c.ordinal, vary(c.text, rng), c.heading, 1, 1, 0, 0) for c in chunks
                ]
            chunks = chunks[: passages - written]
            level, groups = marking(rng)
            year = meta.get("year")
            batch.append(
                DocumentDraft(
                    document_id=f"{key}-{copy}",
                    title=title,
                    doc_type=doc_type,
                    source_name=f"{key}.txt",
                    sha256=f"{key}-{copy}",
                    metadata=meta,
                    date=f"{year}-09-20" if year else None,
                    chunks=tuple(chunks),
                    classification=level,
                    groups=groups,
                )
            )
            written += len(chunks)
            if len(batch) == BATCH_DOCUMENTS:
                flush(store, batch)
                batch = []
                print(f"{written} passages, {time.perf_counter() - started:.0f} s", file=sys.stderr)
        copy += 1
    flush(store, batch)
    store.close()
    print(f"built {written} passages in {time.perf_counter() - started:.0f} s", file=sys.stderr)


def flush(store: SQLiteStore, batch: list[DocumentDraft]) -> None:
    if batch:
        store.write_documents(batch, [np.zeros((len(d.chunks), 1), np.float32) for d in batch])


def briefs(store_folder: Path, count: int) -> list[str]:
    """Long briefs: two or three real UN passages joined, as an analyst pastes a page."""
    rng = random.Random(SEED + 1)
    texts = [t for *_, t in un_documents()]
    out = []
    for _ in range(count):
        words = " ".join(rng.choice(texts).split("\n")[rng.randint(1, 5)] for _ in range(3))
        out.append(" ".join(words.split()[:400]))
    return out


def keyword_step(kb: KnowledgeBase, query: str, filters: Filters) -> None:
    """The keyword step alone: the plan (if the code under test plans) and the FTS5 search."""
    parsed = parse_query(query)
    selectivity = getattr(kb.searcher, "selectivity", None)
    if selectivity is None:  # the code before keyword plans
        expression = fts_expression(parsed)
        if expression is not None:
            kb.store.keyword_search(expression, filters, kb.settings.candidates)
        return
    from kb.keywords.selectivity import run_plan  # noqa: PLC0415 (here: older code has no kb.keywords.selectivity)

    def search(expression: str) -> list[tuple[int, float]]:
        return kb.store.keyword_search(
            expression, filters, kb.settings.candidates, kb.settings.keyword_max_rows
        )

    run_plan(selectivity.plan(parsed), search, kb.settings.candidates)


def percentiles(seconds: list[float]) -> str:
    ms = np.asarray(seconds) * 1000
    return " | ".join(f"{np.percentile(ms, p):.1f}" for p in (50, 95, 99))


def measure(kb: KnowledgeBase, queries: list[str], filters: Filters, repeat: int) -> str:
    fts, whole = [], []
    for _ in range(repeat):
        for query in queries:
            started = time.perf_counter()
            keyword_step(kb, query, filters)
            fts.append(time.perf_counter() - started)
            started = time.perf_counter()
            kb.search(SearchRequest(query=query, mode="keyword", filters=filters, limit=10))
            whole.append(time.perf_counter() - started)
    return f"{percentiles(fts)} | {percentiles(whole)}"


def knobs(args: argparse.Namespace) -> dict[str, int]:
    return {} if args.max_rows is None else {"keyword_max_rows": args.max_rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--passages", type=int, default=1_000_000)
    parser.add_argument("--store", type=Path, default=DEFAULT_STORE)
    parser.add_argument("--reuse", action="store_true", help="keep an existing store")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each query list")
    parser.add_argument("--label", default="", help="a name for this code in the table")
    parser.add_argument("--max-rows", type=int, help="KB_KEYWORD_MAX_ROWS for this run")
    args = parser.parse_args()
    if not (CORPORA / "un-general-debates").exists():
        sys.exit("needs ../shared/corpora/un-general-debates beside the repository")
    if not (args.reuse and (args.store / "kb.sqlite").exists()):
        if args.store.exists():
            sys.exit(f"{args.store} exists; pass --reuse or remove it")
        build(args.store, args.passages)
    settings = Settings(store=args.store, embedder="onnx", **knobs(args))
    kb = KnowledgeBase(settings)
    passages = kb.store.counts()[1]
    viewer = Filters(viewer=VIEWER)
    filtered = Filters(viewer=VIEWER, doc_types=("speech",), date_from="2016", date_to="2017")
    classes = [
        ("rare words", list(RARE), viewer),
        ("common words", list(COMMON), viewer),
        ("crisis, few words", list(CRISIS), viewer),
        ("long briefs (200-400 words)", briefs(args.store, 8), viewer),
        ("crisis + type and date filters", list(CRISIS), filtered),
    ]
    # Warm the page cache and any per-generation caches once, as a running server would be.
    for _, queries, filters in classes:
        for query in queries:
            kb.search(SearchRequest(query=query, mode="keyword", filters=filters, limit=10))
    print(
        f"\n{args.label} keyword search, {passages:,} passages (1-d zero vectors), "
        f"viewer internal+group, {args.repeat} runs per query, ms\n"
    )
    print(
        "| class | queries | fts p50 | fts p95 | fts p99 | search p50 | search p95 | search p99 |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, queries, filters in classes:
        print(f"| {name} | {len(queries)} | {measure(kb, queries, filters, args.repeat)} |")
    kb.close()


if __name__ == "__main__":
    main()
