"""The two embedding backends on SciFact in one run: torch (reference) and int8 ONNX.

    .venv/bin/python bench/embedders.py [--corpus DIR] [--out DIR]
    .venv/bin/python bench/embedders.py --bare 1000   # only the bare models, interleaved
    .venv/bin/python bench/embedders.py --limit 500   # only ingest, the first 500 documents

For each backend: a fresh store, the whole SciFact corpus ingested (documents/s and passages/s
end to end, and their onnx/torch ratio: the issue's target is 1.6x documents/s), the
bare model on one short query at a time (p50/p95 over the 300 test queries), dense and hybrid
search latency and nDCG@10, and each figure's ratio to torch. Then the cosine between the two
backends' vectors for the same passages. Prints Markdown for bench/RESULTS.md; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
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

import numpy as np  # noqa: E402

from ingest.pipeline import IngestOptions, ingest_files  # noqa: E402
from kb.embedding.backends import make_embedder  # noqa: E402
from kb.embedding.embedder import Embedder  # noqa: E402
from kb.evaluation import Query, evaluate, read_qrels, read_queries  # noqa: E402
from kb.knowledge_base import KnowledgeBase  # noqa: E402
from kb.models import SearchRequest  # noqa: E402
from kb.settings import Settings  # noqa: E402

BACKENDS = ("torch", "onnx")
SAMPLE = 1000
TARGET = 1.6  # issue 7: end-to-end ingest documents/s, onnx over torch


@dataclass(frozen=True)
class Row:
    backend: str
    documents: int
    chunks: int
    ingest_seconds: float
    query_p50: float
    query_p95: float
    dense_p50: float
    hybrid_p50: float
    dense_ndcg: float
    hybrid_ndcg: float

    @property
    def rate(self) -> float:
        return self.chunks / self.ingest_seconds

    @property
    def documents_rate(self) -> float:
        return self.documents / self.ingest_seconds


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def timed_ms(run: object, items: list[Query]) -> list[float]:
    latencies = []
    for item in items:
        started = time.perf_counter()
        run(item)  # type: ignore[operator]
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def measure(backend: str, corpus: Path, out: Path) -> tuple[Row, Embedder, list[str]]:
    store = out / backend
    shutil.rmtree(store, ignore_errors=True)
    settings = Settings(store=store, embedder=backend)  # type: ignore[arg-type]
    embedder = make_embedder(settings)
    embedder.encode_queries(["warm up"])  # load (and for onnx export) outside the timings
    with KnowledgeBase(settings, embedder=embedder) as kb:
        started = time.perf_counter()
        ingest_files(kb, [corpus / "corpus.jsonl"], IngestOptions())
        ingest_seconds = time.perf_counter() - started
        stats = kb.stats()
        qrels = read_qrels(corpus / "qrels" / "test.tsv")
        queries = read_queries(corpus / "queries.jsonl", set(qrels))
        bare = timed_ms(lambda q: embedder.encode_queries([q.text]), queries)
        dense = timed_ms(lambda q: kb.search(SearchRequest(q.text, mode="dense")), queries)
        hybrid = timed_ms(lambda q: kb.search(SearchRequest(q.text, mode="hybrid")), queries)
        row = Row(
            backend,
            stats.documents,
            stats.chunks,
            ingest_seconds,
            percentile(bare, 50),
            percentile(bare, 95),
            percentile(dense, 50),
            percentile(hybrid, 50),
            evaluate(kb.search_batch, queries, qrels, "dense").ndcg_10,
            evaluate(kb.search_batch, queries, qrels, "hybrid").ndcg_10,
        )
        texts = [t for batch in kb.store.iter_chunk_texts(SAMPLE) for _, t in batch][:SAMPLE]
    return row, embedder, texts


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared/corpora/beir-scifact")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/out/embedders")
    parser.add_argument(
        "--bare",
        type=int,
        metavar="N",
        help="Only time the bare models on N passages and the queries, backends interleaved "
        "round by round, so that other load on the machine falls on both alike.",
    )
    parser.add_argument(
        "--limit",
        type=int,
        metavar="N",
        help="Only ingest the first N documents per backend (fresh stores), for a short look "
        "at the end-to-end ratio without the full run's ten minutes of both cores.",
    )
    args = parser.parse_args()
    if not (args.corpus / "corpus.jsonl").is_file():
        sys.exit(f"no SciFact corpus at {args.corpus} (expected ../shared/corpora/beir-scifact)")
    if args.bare:
        bare(args.corpus, args.bare)
        return
    if args.limit:
        ingest_only(args.corpus, args.limit, args.out)
        return
    rows: list[Row] = []
    embedders: list[Embedder] = []
    sample: list[str] = []
    for backend in BACKENDS:
        row, embedder, sample = measure(backend, args.corpus, args.out)
        rows.append(row)
        embedders.append(embedder)
    cosines = np.sum(
        embedders[0].encode_documents(sample) * embedders[1].encode_documents(sample), axis=1
    )

    print(
        f"Embedding backends on SciFact (BEIR test split, 300 queries), "
        f"{time.strftime('%Y-%m-%d')}, {platform.node()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    print()
    print(
        "| backend | documents | passages | ingest s | documents/s | passages/s | query p50 ms "
        "| query p95 ms | dense search p50 ms | hybrid search p50 ms | nDCG@10 dense "
        "| nDCG@10 hybrid |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row.backend} | {row.documents} | {row.chunks} | {row.ingest_seconds:.1f} "
            f"| {row.documents_rate:.1f} | {row.rate:.1f} "
            f"| {row.query_p50:.1f} | {row.query_p95:.1f} | {row.dense_p50:.1f} "
            f"| {row.hybrid_p50:.1f} | {row.dense_ndcg:.4f} | {row.hybrid_ndcg:.4f} |"
        )
    torch, onnx = rows
    print(
        f"| onnx / torch | | | {onnx.ingest_seconds / torch.ingest_seconds:.2f} "
        f"| {onnx.documents_rate / torch.documents_rate:.2f} "
        f"| {onnx.rate / torch.rate:.2f} | {onnx.query_p50 / torch.query_p50:.2f} "
        f"| {onnx.query_p95 / torch.query_p95:.2f} | {onnx.dense_p50 / torch.dense_p50:.2f} "
        f"| {onnx.hybrid_p50 / torch.hybrid_p50:.2f} "
        f"| {onnx.dense_ndcg - torch.dense_ndcg:+.4f} "
        f"| {onnx.hybrid_ndcg - torch.hybrid_ndcg:+.4f} |"
    )
    print()
    print(ratio_line(torch.documents_rate, onnx.documents_rate))
    print()
    print(
        f"Cosine between the backends' vectors for the first {len(sample)} stored passages: "
        f"mean {cosines.mean():.4f}, min {cosines.min():.4f}, 1st percentile "
        f"{np.percentile(cosines, 1):.4f}."
    )


def ratio_line(torch_rate: float, onnx_rate: float) -> str:
    ratio = onnx_rate / torch_rate
    verdict = "meets" if ratio >= TARGET else "misses"
    return (
        f"End-to-end ingest, onnx ÷ torch: {ratio:.2f}× the documents/s "
        f"({onnx_rate:.1f} against {torch_rate:.1f}); {verdict} the {TARGET}× target."
    )


def ingest_only(corpus: Path, limit: int, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    subset = out / f"corpus-{limit}.jsonl"
    with (corpus / "corpus.jsonl").open(encoding="utf-8") as lines:
        subset.write_text("".join(line for _, line in zip(range(limit), lines, strict=False)))
    rates: dict[str, float] = {}
    print(
        f"Ingest only, the first {limit} SciFact documents, {time.strftime('%Y-%m-%d %H:%M')}, "
        f"{platform.node()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"
    )
    print()
    print("| backend | documents | passages | ingest s | documents/s |")
    print("|---|---|---|---|---|")
    for backend in BACKENDS:
        store = out / backend
        shutil.rmtree(store, ignore_errors=True)
        settings = Settings(store=store, embedder=backend)  # type: ignore[arg-type]
        embedder = make_embedder(settings)
        embedder.encode_queries(["warm up"])
        with KnowledgeBase(settings, embedder=embedder) as kb:
            started = time.perf_counter()
            ingest_files(kb, [subset], IngestOptions())
            seconds = time.perf_counter() - started
            stats = kb.stats()
        rates[backend] = stats.documents / seconds
        print(
            f"| {backend} | {stats.documents} | {stats.chunks} | {seconds:.1f} "
            f"| {rates[backend]:.1f} |"
        )
    print()
    print(ratio_line(rates["torch"], rates["onnx"]))


def bare(corpus: Path, count: int, rounds: int = 3) -> None:
    lines = (corpus / "corpus.jsonl").read_text(encoding="utf-8").splitlines()[:count]
    texts = [json.loads(line)["text"] for line in lines]
    qrels = read_qrels(corpus / "qrels" / "test.tsv")
    queries = [q.text for q in read_queries(corpus / "queries.jsonl", set(qrels))]
    embedders = {b: make_embedder(Settings(embedder=b)) for b in BACKENDS}  # type: ignore[arg-type]
    rates: dict[str, list[float]] = {b: [] for b in BACKENDS}
    latencies: dict[str, list[float]] = {b: [] for b in BACKENDS}
    for embedder in embedders.values():
        embedder.encode_documents(texts[:64])  # load outside the timings
    for _ in range(rounds):
        for backend, embedder in embedders.items():
            started = time.perf_counter()
            embedder.encode_documents(texts)
            rates[backend].append(len(texts) / (time.perf_counter() - started))
            for query in queries:
                started = time.perf_counter()
                embedder.encode_queries([query])
                latencies[backend].append((time.perf_counter() - started) * 1000)
    print(
        f"Bare models, {len(texts)} SciFact passages and {len(queries)} queries, {rounds} "
        f"interleaved rounds, {time.strftime('%Y-%m-%d')}, {platform.node()}, "
        f"{os.cpu_count()} cores"
    )
    print()
    print("| backend | passages/s (median of rounds) | query p50 ms | query p95 ms |")
    print("|---|---|---|---|")
    for backend in BACKENDS:
        print(
            f"| {backend} | {statistics.median(rates[backend]):.1f} "
            f"| {percentile(latencies[backend], 50):.1f} "
            f"| {percentile(latencies[backend], 95):.1f} |"
        )


if __name__ == "__main__":
    main()
