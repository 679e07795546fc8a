"""Precedent at 10k, 100k and 1M passages: build time, memory, size on disk, search latency in
process and over HTTP, and recall of the approximate index against exact search.

    nice -n 10 .venv/bin/python bench/scale.py [--sizes 10k,100k,1m] [--seconds 30]
        [--clients 8] [--warm 10] [--out bench/out/scale] [--reuse] [--profile]
        [--baseline DIR]

Stores are built through the product's write path (`KnowledgeBase.add` of `DocumentDraft`s
chunked by our chunker: SQLite rows, FTS5, metadata, markings, history are all real) from
SciFact and the UN General Debate speeches in ../shared/corpora; beyond that real supply
(~43k passages) variants of the real documents (sentences shuffled, a few words swapped, new
ids) fill the size (bench/scale_corpus.py says how). Vectors: at sizes up to --real-max the
real model embeds every passage inside the timed build; above it, real passages get the real
model's vectors from a cache under --out (made once, not timed) and variants get their base
passage's vector plus noise. Queries are always embedded by the real model. The output says
which vectors are real.

Each build and each in-process measurement runs in a child process of its own, so the memory
reported is that of a process opening the store and searching. Searches: SciFact test
queries, few-word crisis queries and long briefs, a fifth with a filter and a third as a
non-admin reader (access control is always on). Over HTTP: `kb serve` as a subprocess, time to
its first successful search, its memory, then --clients threads posting hybrid searches for
--seconds (after --warm seconds of the same load, which fill the per-generation caches), and
the server's CPU time a search. With --baseline, a checkout of another commit (`git worktree
add DIR COMMIT`) is measured the same way on the same stores right after, and a table gives
this code's figures against it: on a shared machine whose speed drifts, ratios from one run say
more than absolute figures from two (the header also times a fixed Python loop, for that).
Prints Markdown tables (also written to --out); nothing here asserts.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from scale_corpus import (  # noqa: E402
    CORPORA,
    BankEmbedder,
    VectorBank,
    base_texts,
    documents,
    real_sources,
)
from scale_http import (  # noqa: E402
    Request,
    Server,
    cpu_seconds,
    load,
    memory_of,
    percentiles,
    user_key,
)
from scale_queries import queries  # noqa: E402
from scale_report import MODES, against_baseline, tables  # noqa: E402

from kb.access import Viewer  # noqa: E402
from kb.embedding.backends import make_embedder  # noqa: E402
from kb.knowledge_base import KnowledgeBase  # noqa: E402
from kb.metadata.filters import parse_filters  # noqa: E402
from kb.models import DocumentDraft, Filters, SearchRequest  # noqa: E402
from kb.settings import Settings  # noqa: E402

READER = Viewer("bench-reader", "reader", "internal")


def parse_size(text: str) -> int:
    text = text.strip().lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("km")) * scale)


def label(size: int) -> str:
    return f"{size // 1_000_000}m" if size % 1_000_000 == 0 else f"{size // 1000}k"


def calibrate() -> float:
    """Seconds for a 10-million-step Python loop, best of three: how fast this machine runs
    our Python now (shared machines drift), to read absolute figures against."""
    best = float("inf")
    for _ in range(3):
        began = time.perf_counter()
        total = 0
        for step in range(10_000_000):
            total += step
        best = min(best, time.perf_counter() - began)
    return best


def memory() -> tuple[float, float]:
    return memory_of(os.getpid())


def as_filters(raw: dict[str, Any]) -> Filters:
    return parse_filters(raw)


# -- children --------------------------------------------------------------------------------


def build(size: int, out: Path, real_max: int, pool: int | None) -> dict[str, Any]:
    """Child: build the store of `size` passages from nothing."""
    store = out / f"store-{label(size)}"
    shutil.rmtree(store, ignore_errors=True)
    settings = Settings(store=store)
    sources = real_sources(settings, pool)
    model = make_embedder(settings)
    embedder: Any = model
    if size > real_max:
        bank = VectorBank(out, model, base_texts(sources))
        bank.ensure(size)
        embedder = BankEmbedder(settings, model, bank)
    before, _ = memory()
    row: dict[str, Any] = {"size": size, "real_vectors_in_build": size <= real_max}
    row["pool"] = sum(len(s.draft.chunks) for s in sources)  # real passages the variants vary
    start = time.perf_counter()
    written = shown = 0
    with KnowledgeBase(settings, embedder=embedder) as kb:
        batch: list[DocumentDraft] = []
        for draft, source, is_variant in documents(sources, size):
            if isinstance(embedder, BankEmbedder):
                embedder.expect(draft, source, is_variant)
            batch.append(draft)
            if sum(len(d.chunks) for d in batch) >= settings.ingest_batch_chunks:
                kb.add(batch, actor="bench")
                written += sum(len(d.chunks) for d in batch)
                batch = []
            if written - shown >= 50_000:
                shown = written
                rate = written / (time.perf_counter() - start)
                print(f"  {written:,} passages, {rate:.0f}/s", file=sys.stderr, flush=True)
        if batch:
            kb.add(batch, actor="bench")
        row["write_s"] = time.perf_counter() - start
        waited = time.perf_counter()
        kb.index()
        kb.index_cache.wait()
        row["index_wait_s"] = time.perf_counter() - waited
        waited = time.perf_counter()
        if kb.searcher.keywords is not None:
            kb.searcher.keywords.prepare()
        row["keyword_index_s"] = time.perf_counter() - waited
        stats = kb.stats()
        row.update(passages=stats.chunks, documents=stats.documents, index=stats.index_kind)
        if isinstance(embedder, BankEmbedder):
            real = embedder.real + embedder.embedded  # cached, or embedded now: the model's
            row.update(real=real, synthesised=embedder.synthesised)
        else:
            row.update(real=stats.chunks, synthesised=0)
    row["build_s"] = time.perf_counter() - start  # with the save at close
    row["build_rss_mb"], row["build_peak_mb"] = memory()
    row["build_rss_mb"] -= before
    row["sqlite_mb"] = sum(f.stat().st_size for f in store.glob("*.sqlite*")) / 2**20
    row["index_mb"] = (store / "index.faiss").stat().st_size / 2**20
    row["keyword_mb"] = sum(f.stat().st_size for f in (store / "keyword").glob("*")) / 2**20
    return row


def measure(size: int, out: Path, count: int, profile: bool) -> dict[str, Any]:
    """Child: open the built store as a server would and search it in process."""
    settings = Settings(store=out / f"store-{label(size)}")
    start = time.perf_counter()
    kb = KnowledgeBase(settings)
    kb.embedder.encode_queries(["warm up"])
    kb.index()
    row: dict[str, Any] = {"size": size, "open_s": time.perf_counter() - start}
    start = time.perf_counter()
    if getattr(kb.searcher, "keywords", None) is not None:  # --baseline code may have none
        kb.searcher.keywords.prepare()  # built once, then kept on disk beside the store
    row["keyword_prepare_s"] = time.perf_counter() - start
    asked = queries(count)
    for text, raw, _ in asked[:5]:
        kb.search(SearchRequest(text, as_filters(raw)))
    for mode in MODES:
        took = []
        for text, raw, as_reader in asked:
            request = SearchRequest(text, as_filters(raw), mode, limit=10)  # type: ignore[arg-type]
            began = time.perf_counter()
            kb.search(request, READER if as_reader else None)
            took.append(time.perf_counter() - began)
        row[mode] = percentiles(took)
    row["rss_mb"], row["peak_mb"] = memory()
    recall = kb.index_recall(queries=200, k=10)
    row["recall"], row["recall_kind"] = recall.recall, recall.kind
    if profile:
        text = "peacekeeping mandate renewal"
        profiler = cProfile.Profile()
        profiler.enable()
        kb.search(SearchRequest(text, mode="hybrid"))
        profiler.disable()
        report = io.StringIO()
        pstats.Stats(profiler, stream=report).sort_stats("cumulative").print_stats(30)
        (out / f"profile-{label(size)}.txt").write_text(report.getvalue())
    kb.close()
    return row


def child(arguments: list[str], code: Path | None = None) -> dict[str, Any]:
    """Run this script's `arguments` in a child; with `code`, that checkout's own copy of it
    on that checkout's code (a baseline measured in the same run)."""
    script = __file__ if code is None else str(code / "bench" / "scale.py")
    done = subprocess.run(
        [sys.executable, script, *arguments],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
        cwd=code,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def over_http(
    size: int,
    out: Path,
    clients: int,
    seconds: float,
    count: int,
    warm: float,
    code: Path | None = None,
) -> dict[str, Any]:
    store = out / f"store-{label(size)}"
    admin = user_key(store, "bench-admin", "admin", "confidential")
    reader = user_key(store, "bench-reader", "reader", "internal")
    requests = [
        Request({"query": t, "mode": "hybrid", "filters": f}, reader if r else admin)
        for t, f, r in queries(count)
    ]
    server = Server(store, out / f"serve-{label(size)}.log", code)
    try:
        ready = server.wait_ready(admin)
        row: dict[str, Any] = {"ready_s": ready}
        if ready is None:
            return row
        row["rss_mb"], _ = memory_of(server.process.pid)
        if warm > 0:
            # Per-generation caches (each filter's allowed set, each viewer's vocabulary) fill
            # on their first use; the measured span is the steady state after that.
            load(server.url, requests, clients, warm)
        used = cpu_seconds(server.process.pid)
        row.update(load(server.url, requests, clients, seconds))
        row["cpu_ms"] = (cpu_seconds(server.process.pid) - used) / max(row["searches"], 1) * 1000
        row["rss_after_mb"], row["peak_mb"] = memory_of(server.process.pid)
        return row
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10k,100k,1m")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument(
        "--warm", type=float, default=10.0, help="seconds of load before the measured span"
    )
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--real-max", type=parse_size, default=10_000)
    parser.add_argument(
        "--pool", type=parse_size, help="use only this many real passages (default: all ~43k)"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "scale")
    parser.add_argument("--reuse", action="store_true", help="keep stores already built")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="a checkout of another commit (git worktree add DIR COMMIT): its code is measured "
        "on the same stores in the same run, and the ratios printed",
    )
    parser.add_argument("--profile", action="store_true", help="profile one hybrid query")
    parser.add_argument("--build", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--measure", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    if args.build:
        print(json.dumps(build(args.build, out, args.real_max, args.pool)))
        return
    if args.measure:
        print(json.dumps(measure(args.measure, out, args.queries, args.profile)))
        return
    if not CORPORA.exists():
        sys.exit(f"bench/scale.py needs {CORPORA} (SciFact and the UN General Debates)")
    rows = []
    speed = calibrate()
    for size in sorted(parse_size(s) for s in args.sizes.split(",")):
        built = out / f"build-{label(size)}.json"
        if args.reuse and built.exists() and (out / f"store-{label(size)}").exists():
            row = {"build": json.loads(built.read_text())}
        else:
            print(f"building {label(size)} ...", file=sys.stderr, flush=True)
            pool = ["--pool", str(args.pool)] if args.pool else []
            row = {"build": child(["--build", str(size), "--out", str(out),
                                   "--real-max", str(args.real_max), *pool])}  # fmt: skip
            built.write_text(json.dumps(row["build"]))
        print(f"searching {label(size)} ...", file=sys.stderr, flush=True)
        extra = ["--profile"] if args.profile else []
        row["search"] = child(["--measure", str(size), "--out", str(out),
                               "--queries", str(args.queries), *extra])  # fmt: skip
        print(f"serving {label(size)} ...", file=sys.stderr, flush=True)
        row["http"] = over_http(size, out, args.clients, args.seconds, args.queries, args.warm)
        if args.baseline:
            print(f"baseline at {label(size)} ...", file=sys.stderr, flush=True)
            row["baseline"] = {
                "search": child(["--measure", str(size), "--out", str(out),
                                 "--queries", str(args.queries)], args.baseline),
                "http": over_http(size, out, args.clients, args.seconds, args.queries,
                                  args.warm, args.baseline),
            }  # fmt: skip
        print(json.dumps(row), file=sys.stderr, flush=True)
        rows.append(row)
    header = (
        f"bench/scale.py --sizes {args.sizes} --clients {args.clients} --seconds "
        f"{args.seconds:g} --warm {args.warm:g} --queries {args.queries}; "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}; a 10M-step Python loop "
        f"took {speed:.2f} s (machine speed, to compare runs).\n"
        f"Texts: SciFact + UN General Debates 2015-2024 ({args.pool or 'all ~43k'} real "
        f"passages; real passages per store in the build table), then variants "
        f"(sentences shuffled, words swapped, new ids). Vectors: up to {args.real_max:,} "
        f"passages the real model embeds inside the build; above, real passages carry the real "
        f"model's cached vectors and variants their base vector plus noise (cosine ~0.95). "
        f"Queries always embedded by the real model; {args.queries} per mode, some filtered, "
        f"a third as a non-admin reader. HTTP: hybrid only, POST /search, {args.clients} "
        f"client threads on loopback, measured after {args.warm:g} s of the same load.\n"
    )
    report = header + "\n" + tables(rows)
    if args.baseline:
        report += "\n\n" + against_baseline(rows, args.baseline)
    print(report)
    (out / f"scale-{time.strftime('%Y%m%d-%H%M%S')}.md").write_text(report)


if __name__ == "__main__":
    main()
