"""Precedent against Chroma and txtai on SciFact, in one run: ingest, query latency, quality.

    .venv/bin/python bench/peers.py [--quick] [--systems ours,chroma,txtai,txtai-hybrid]

The peers are installed from PyPI (bench/peers-requirements.txt, exact pins, torch==2.13.0
first so nothing pulls a CUDA build) into their own virtual environment, bench/out/peers-venv,
made on first use; never into the project's .venv. Each runs in a subprocess of that venv
(bench/peers_runner.py, JSON over stdout) on the same packaged model folder as ours, offline.
The same corpus and the same judged test queries go through every system: ingest time, query
latency (top 10, one query at a time, after a warm-up) and nDCG@10 / recall@100, scored here
with our own code (kb.evaluation) from the document ids each peer returns. Ours is built in a
fresh store in the same run; its settings come from KB_* variables as for the product.

Prints a Markdown table to paste into bench/RESULTS.md. Not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.pipeline import IngestOptions, ingest_files  # noqa: E402
from kb.embedding.embedder import resolve_model  # noqa: E402
from kb.evaluation import (  # noqa: E402
    CUTOFF,
    DEPTH,
    Query,
    ndcg,
    read_qrels,
    read_queries,
    recall,
)
from kb.knowledge_base import KnowledgeBase  # noqa: E402
from kb.models import Mode, SearchRequest  # noqa: E402
from kb.settings import Settings  # noqa: E402

BENCH = ROOT / "bench"
REQUIREMENTS = BENCH / "peers-requirements.txt"
RUNNER = BENCH / "peers_runner.py"
PEERS = ("chroma", "txtai", "txtai-hybrid")
SYSTEMS = ("ours",) + PEERS
WARMUP = 10
QUICK_DOCS, QUICK_QUERIES = 500, 50


@dataclass(frozen=True)
class Row:
    system: str
    documents: int
    passages: int  # texts embedded: our chunks; one per document for the peers
    ingest_seconds: float
    latencies_ms: list[float]
    ndcg_10: float
    recall_100: float


def percentile(values: Sequence[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def ensure_venv(venv: Path) -> Path:
    """The peers' interpreter, installing them on first use or when the pins change."""
    python = venv / "bin" / "python"
    marker = venv / ".installed"
    wanted = REQUIREMENTS.read_text(encoding="utf-8")
    if python.is_file() and marker.is_file() and marker.read_text(encoding="utf-8") == wanted:
        return python
    print(f"Installing the peers into {venv} (once; a few minutes)", file=sys.stderr)
    if not python.is_file():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(python), "-m", "pip", "install", "--quiet"]
    # torch alone and first: the local CPU build; a peer asking for torch then finds it there.
    for step in (["torch==2.13.0"], ["-r", str(REQUIREMENTS)]):
        if subprocess.run([*pip, *step], check=False).returncode != 0:
            sys.exit(f"installing the peers into {venv} failed at: pip install {' '.join(step)}")
    marker.write_text(wanted, encoding="utf-8")
    return python


def quick_corpus(
    corpus: Path,
    queries: list[Query],
    qrels: Mapping[str, Mapping[str, int]],
    size: int,
    target: Path,
) -> Path:
    """A smaller corpus that still holds every judged document of the chosen queries."""
    wanted = {d for q in queries for d, g in qrels.get(q.query_id, {}).items() if g > 0}
    kept: list[str] = []
    for line in corpus.read_text(encoding="utf-8-sig").splitlines():
        if not line.strip():
            continue
        doc_id = str(json.loads(line)["_id"])
        if doc_id in wanted or len(kept) < size - len(wanted):
            kept.append(line)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return target


def score(
    ranked: Mapping[str, Sequence[str]],
    queries: Sequence[Query],
    qrels: Mapping[str, Mapping[str, int]],
) -> tuple[float, float]:
    """nDCG@10 and recall@100 averaged over the judged queries, as kb.evaluation.evaluate does
    for ours (a judged query with nothing returned counts with zeros)."""
    judged = [q for q in queries if any(g > 0 for g in qrels.get(q.query_id, {}).values())]
    if not judged:
        return 0.0, 0.0
    ndcgs = [ndcg(ranked.get(q.query_id, []), qrels[q.query_id], CUTOFF) for q in judged]
    recalls = [recall(ranked.get(q.query_id, []), qrels[q.query_id], DEPTH) for q in judged]
    return sum(ndcgs) / len(judged), sum(recalls) / len(judged)


def run_ours(
    corpus: Path, store: Path, queries: list[Query], qrels: Mapping[str, Mapping[str, int]]
) -> list[Row]:
    if store.exists():
        shutil.rmtree(store)
    rows: list[Row] = []
    with KnowledgeBase(Settings(store=store)) as kb:
        kb.embedder.encode_queries(["warm up"])  # load the model outside the timing
        started = time.perf_counter()
        ingest_files(kb, [corpus], IngestOptions())
        seconds = time.perf_counter() - started
        stats = kb.stats()
        documents = stats.documents
        modes: tuple[tuple[str, Mode], ...] = (
            ("ours hybrid (default)", "hybrid"),
            ("ours dense", "dense"),
        )
        for name, mode in modes:
            for query in queries[:WARMUP]:
                kb.search(SearchRequest(query.text, mode=mode, limit=CUTOFF))
            latencies = []
            for query in queries:
                t = time.perf_counter()
                kb.search(SearchRequest(query.text, mode=mode, limit=CUTOFF))
                latencies.append((time.perf_counter() - t) * 1000)
            requests = [SearchRequest(q.text, mode=mode, limit=DEPTH) for q in queries]
            responses = kb.search_batch(requests)
            ranked = {
                q.query_id: [p.document_id for p in r.results]
                for q, r in zip(queries, responses, strict=True)
            }
            quality = score(ranked, queries, qrels)
            rows.append(Row(name, documents, stats.chunks, seconds, latencies, *quality))
    return rows


def run_peer(
    python: Path,
    system: str,
    corpus: Path,
    workdir: Path,
    queries: list[Query],
    qrels: Mapping[str, Mapping[str, int]],
) -> tuple[Row, dict[str, str]] | None:
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    job = {
        "system": system,
        "model": str(resolve_model(Settings().model)[1]),
        "corpus": str(corpus),
        "workdir": str(workdir),
        "queries": [[q.query_id, q.text] for q in queries],
        "limit": CUTOFF,
        "depth": DEPTH,
        "warmup": WARMUP,
    }
    log = workdir.parent / f"{system}.log"
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False",
        "TOKENIZERS_PARALLELISM": "false",
    }
    print(f"Running {system} (log: {log})", file=sys.stderr)
    with log.open("w", encoding="utf-8") as errors:
        done = subprocess.run(
            [str(python), str(RUNNER)],
            input=json.dumps(job),
            text=True,
            stdout=subprocess.PIPE,
            stderr=errors,
            env=env,
            check=False,
        )
    if done.returncode != 0:
        tail = log.read_text(encoding="utf-8").strip().splitlines()[-1:]
        print(
            f"{system} failed (exit {done.returncode}, see {log}): {' '.join(tail)}",
            file=sys.stderr,
        )
        return None
    result = json.loads(done.stdout.strip().splitlines()[-1])
    quality = score(result["ranked"], queries, qrels)
    row = Row(
        system,
        result["documents"],
        result["documents"],
        result["ingest_seconds"],
        result["latencies_ms"],
        *quality,
    )
    return row, result["versions"]


def print_table(
    rows: list[Row], versions: dict[str, dict[str, str]], corpus: Path, queries: int
) -> None:
    reference = rows[0]  # ours, the default pipeline, when it ran
    ref_rate = reference.documents / reference.ingest_seconds
    ref_p50 = percentile(reference.latencies_ms, 50)
    print(
        f"{time.strftime('%Y-%m-%d')} · {platform.machine()} · {os.cpu_count()} cores · "
        f"Python {platform.python_version()} · {corpus} · {queries} judged queries"
    )
    print()
    print(
        f"| system | documents | ingest s | docs/s | docs/s ÷ {reference.system} | p50 ms "
        f"| p95 ms | p50 ÷ {reference.system} | nDCG@10 | recall@100 |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        rate = row.documents / row.ingest_seconds
        p50 = percentile(row.latencies_ms, 50)
        print(
            f"| {row.system} | {row.documents} | {row.ingest_seconds:.1f} | {rate:.1f} "
            f"| {rate / ref_rate:.2f} | {p50:.1f} | {percentile(row.latencies_ms, 95):.1f} "
            f"| {p50 / ref_p50:.2f} | {row.ndcg_10:.4f} | {row.recall_100:.4f} |"
        )
    print()
    print(
        "Texts embedded: "
        + ", ".join(f"{row.system} {row.passages}" for row in rows)
        + " (we embed passages, a peer one title + abstract per document)."
    )
    ours = f"precedent (sentence-transformers {version('sentence-transformers')}, "
    ours += f"torch {version('torch')}, faiss-cpu {version('faiss-cpu')})"
    peers = [
        f"{system}: " + ", ".join(f"{k} {v}" for k, v in found.items())
        for system, found in versions.items()
    ]
    print("Versions: " + "; ".join([ours, *peers]))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared/corpora/beir-scifact")
    parser.add_argument("--out", type=Path, default=BENCH / "out" / "peers")
    parser.add_argument("--venv", type=Path, default=BENCH / "out" / "peers-venv")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"A smoke run: {QUICK_DOCS} documents (every judged one kept), {QUICK_QUERIES} "
        "queries.",
    )
    parser.add_argument("--docs", type=int, help="Documents to keep (every judged one kept).")
    parser.add_argument("--queries", type=int, help="Judged test queries to run.")
    parser.add_argument(
        "--systems", default=",".join(SYSTEMS), help=f"Comma-separated, of {', '.join(SYSTEMS)}."
    )
    args = parser.parse_args()
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = sorted(set(systems) - set(SYSTEMS))
    if unknown:
        sys.exit(f"unknown systems {unknown}; choose from {', '.join(SYSTEMS)}")
    corpus = args.corpus / "corpus.jsonl"
    if not corpus.is_file():
        sys.exit(f"no SciFact corpus at {args.corpus} (expected ../shared/corpora/beir-scifact)")

    qrels = read_qrels(args.corpus / "qrels" / "test.tsv")
    queries = read_queries(args.corpus / "queries.jsonl", set(qrels))
    if args.quick:
        args.docs = args.docs or QUICK_DOCS
        args.queries = args.queries or QUICK_QUERIES
    if args.queries:
        queries = queries[: args.queries]
    if args.docs:
        corpus = quick_corpus(corpus, queries, qrels, args.docs, args.out / "corpus.jsonl")
    python = ensure_venv(args.venv) if set(systems) & set(PEERS) else None

    rows: list[Row] = []
    versions: dict[str, dict[str, str]] = {}
    if "ours" in systems:
        print("Running ours", file=sys.stderr)
        rows.extend(run_ours(corpus, args.out / "ours", queries, qrels))
    for system in systems:
        if system in PEERS and python is not None:
            outcome = run_peer(python, system, corpus, args.out / system, queries, qrels)
            if outcome is not None:
                rows.append(outcome[0])
                versions[system] = outcome[1]
    if not rows:
        sys.exit("no system ran")
    print_table(rows, versions, corpus, len(queries))


if __name__ == "__main__":
    main()
