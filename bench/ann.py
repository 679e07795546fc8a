"""Vector index kinds at 100k and 1M passages: build time, memory, size on disk, latency and
recall@10 against exact search, with and without a 10% allowed-id filter.

    .venv/bin/python bench/ann.py [--sizes 100000 1000000] [--queries 200]

The vectors are SYNTHETIC: seeded clustered 384-d unit vectors (numpy), not embeddings of
text. Each kind runs in a child process of its own, so its memory is its own: RSS after the
build (the data freed), and RSS when a fresh process loads the saved index. Kinds:
`exact` and `hnsw` are the product's own `kb.vectors.index.VectorIndex`; `hnsw-flat` (HNSW over
float32
vectors) and `ivf-sq8` (IVF with 8-bit scalar quantisation) are plain FAISS, for comparison.
Searches ask for 200 candidates, as the product's dense search does, one query at a time.
Prints one Markdown table for bench/RESULTS.md. Not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import faiss
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kb.vectors.index import HNSW, AnnParams, VectorIndex  # noqa: E402

DIMENSION = 384
CLUSTERS = 2000
CANDIDATES = 200
K = 10
SEED = 7
FILTER_SHARE = 0.1
PARAMS = AnnParams()  # the settings' defaults


def memory() -> tuple[float, float]:
    """Resident and peak resident memory of this process, MiB."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def clustered(count: int, seed: int) -> np.ndarray:
    """Unit vectors around CLUSTERS random centres (cosine to the centre about 0.7)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((CLUSTERS, DIMENSION), dtype=np.float32)
    vectors = np.empty((count, DIMENSION), np.float32)
    for start in range(0, count, 100_000):
        size = min(100_000, count - start)
        picked = rng.integers(0, CLUSTERS, size)
        block = centres[picked] + rng.standard_normal((size, DIMENSION), dtype=np.float32)
        vectors[start : start + size] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return vectors


def data(size: int, queries: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    every = clustered(size + queries, SEED)
    allowed = np.sort(
        np.random.default_rng(SEED + 1).permutation(size)[: int(size * FILTER_SHARE)]
    ).astype(np.int64)
    # Copies, so that freeing the stored vectors frees their memory (a view would keep it).
    return every[:size], every[size:].copy(), allowed


def percentiles(seconds: list[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1000
    return {f"p{p}": float(np.percentile(ms, p)) for p in (50, 95, 99)}


def recall(found: list[np.ndarray], truth: np.ndarray) -> float:
    hits = sum(
        len(set(f[:K].tolist()) & set(t.tolist())) for f, t in zip(found, truth, strict=True)
    )
    return hits / truth.size


def timed(search: Any, queries: np.ndarray) -> tuple[list[np.ndarray], list[float]]:
    found, took = [], []
    for query in queries:
        start = time.perf_counter()
        ids = search(query[None, :])
        took.append(time.perf_counter() - start)
        found.append(ids[0])
    return found, took


def build(kind: str, vectors: np.ndarray, size: int) -> Any:
    ids = np.arange(size, dtype=np.int64)
    if kind in ("exact", "hnsw"):
        return VectorIndex.build(ids, vectors, 1, "exact" if kind == "exact" else HNSW, PARAMS)
    if kind == "hnsw-flat":
        index = faiss.IndexHNSWFlat(DIMENSION, PARAMS.m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = PARAMS.ef_construction
        index.add(vectors)
        return index
    nlist = 4096 if size >= 500_000 else 1024
    index = faiss.index_factory(DIMENSION, f"IVF{nlist},SQ8", faiss.METRIC_INNER_PRODUCT)
    index.train(vectors[np.random.default_rng(0).permutation(size)[: nlist * 40]])
    index.add(vectors)
    return index


def searcher(kind: str, index: Any, allowed: np.ndarray | None) -> Any:
    if kind in ("exact", "hnsw"):
        return lambda q: index.search(q, CANDIDATES, allowed)[1]
    if kind == "hnsw-flat":
        params = faiss.SearchParametersHNSW()
        params.efSearch = max(PARAMS.ef_search, CANDIDATES)
    else:
        params = faiss.SearchParametersIVF()
        params.nprobe = 32
    selector = faiss.IDSelectorBatch(allowed) if allowed is not None else None
    if selector is not None:
        params.sel = selector
    return lambda q, _keep=selector: index.search(q, CANDIDATES, params=params)[1]


def run_one(kind: str, size: int, queries: int, folder: Path) -> dict[str, Any]:
    """Child: build one kind, measure it, save it."""
    base, _ = memory()
    vectors, asked, allowed = data(size, queries)
    start = time.perf_counter()
    index = build(kind, vectors, size)
    build_seconds = time.perf_counter() - start
    truth_file = folder / f"truth-{size}.npz"
    if kind == "exact":
        truth = [timed(searcher(kind, index, a), asked)[0] for a in (None, allowed)]
        np.savez(
            truth_file,
            plain=np.stack([t[:K] for t in truth[0]]),
            filtered=np.stack([t[:K] for t in truth[1]]),
        )
    del vectors
    gc.collect()
    rss, peak = memory()
    truths = np.load(truth_file)
    row: dict[str, Any] = {
        "kind": kind,
        "size": size,
        "build_s": build_seconds,
        "rss_mb": rss - base,
        "build_peak_mb": peak - base,
    }
    for name, subset in (("plain", None), ("filtered", allowed)):
        found, took = timed(searcher(kind, index, subset), asked)
        row[name] = {**percentiles(took), "recall": recall(found, truths[name])}
    if kind == "hnsw":
        # The same index with the exhaustive fallback off: the filter through the graph alone.
        index.params = replace(index.params, exact_filter_max=0)
        found, took = timed(searcher(kind, index, allowed), asked)
        row["graph_filtered"] = {**percentiles(took), "recall": recall(found, truths["filtered"])}
        index.params = PARAMS
    path = folder / f"{kind}-{size}"
    if isinstance(index, VectorIndex):
        index.save(path)
        row["disk_mb"] = (path / "index.faiss").stat().st_size / 2**20
    else:
        faiss.write_index(index, str(path))
        row["disk_mb"] = path.stat().st_size / 2**20
    return row


def load_one(folder: Path, size: int) -> dict[str, Any]:
    """Child: load a saved product index as a server would, and say what it costs."""
    base, _ = memory()
    start = time.perf_counter()
    index = VectorIndex.load(folder, 1, DIMENSION, size, PARAMS)
    took = time.perf_counter() - start
    assert index is not None, f"could not load {folder}"
    rss, peak = memory()
    return {"load_s": took, "load_rss_mb": rss - base, "load_peak_mb": peak - base}


def child(arguments: list[str]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, *arguments], check=True, capture_output=True, text=True
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| passages | index | build s | RSS MiB (built) | RSS MiB (loaded, peak) | disk MiB "
        "| p50 / p95 / p99 ms | recall@10 | filtered p50 / p95 / p99 ms | filtered recall@10 |",
        "|---:|---|---:|---:|---:|---:|---|---:|---|---:|",
    ]
    for r in rows:
        plain, filtered = r["plain"], r["filtered"]
        loaded = f"{r['load_rss_mb']:.0f} ({r['load_peak_mb']:.0f})" if "load_rss_mb" in r else "–"
        lines.append(
            f"| {r['size']:,} | {r['kind']} | {r['build_s']:.1f} | {r['rss_mb']:.0f} | {loaded} "
            f"| {r['disk_mb']:.0f} "
            f"| {plain['p50']:.2f} / {plain['p95']:.2f} / {plain['p99']:.2f} "
            f"| {plain['recall']:.3f} "
            f"| {filtered['p50']:.2f} / {filtered['p95']:.2f} / {filtered['p99']:.2f} "
            f"| {filtered['recall']:.3f} |"
        )
        if "graph_filtered" in r:
            graph = r["graph_filtered"]
            lines.append(
                f"| {r['size']:,} | hnsw, filter through the graph only | | | | | | "
                f"| {graph['p50']:.2f} / {graph['p95']:.2f} / {graph['p99']:.2f} "
                f"| {graph['recall']:.3f} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--kinds", nargs="+", default=["exact", "hnsw", "hnsw-flat", "ivf-sq8"])
    parser.add_argument(
        "--one", nargs=3, metavar=("KIND", "SIZE", "FOLDER"), help=argparse.SUPPRESS
    )
    parser.add_argument("--load", nargs=2, metavar=("FOLDER", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one[0], int(args.one[1]), args.queries, Path(args.one[2]))))
        return
    if args.load:
        print(json.dumps(load_one(Path(args.load[0]), int(args.load[1]))))
        return
    rows = []
    with tempfile.TemporaryDirectory(prefix="kb-ann-") as scratch:
        for size in args.sizes:
            for kind in ["exact", *(k for k in args.kinds if k != "exact")]:
                print(f"{kind} at {size:,} ...", file=sys.stderr, flush=True)
                row = child(["--one", kind, str(size), scratch, "--queries", str(args.queries)])
                if kind in ("exact", "hnsw"):
                    row.update(child(["--load", f"{scratch}/{kind}-{size}", str(size)]))
                rows.append(row)
                print(json.dumps(row), file=sys.stderr, flush=True)
    print(
        f"Synthetic data: seeded clustered 384-d unit vectors ({CLUSTERS} clusters), "
        f"{args.queries} held-out queries, {CANDIDATES} candidates per search, filter = a "
        f"random {FILTER_SHARE:.0%} of ids. HNSW M={PARAMS.m}, efConstruction="
        f"{PARAMS.ef_construction}, efSearch={PARAMS.ef_search} (at least k); exact over the "
        f"allowed ids when at most {PARAMS.exact_filter_max:,}. IVF nprobe=32.\n"
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, FAISS {faiss.__version__}; "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n"
    )
    print(table(rows))


if __name__ == "__main__":
    main()
