"""Precedent at 10k, 100k and 1M passages: build time, memory, size on disk, search latency in
process and over HTTP, and recall of the approximate index against exact search.

    nice -n 10 .venv/bin/python bench/scale.py [--sizes 10k,100k,1m] [--seconds 30]
        [--clients 8] [--out bench/out/scale] [--reuse] [--profile]

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
--seconds. Prints Markdown tables (also written to --out); nothing here asserts.
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
from scale_http import Request, Server, load, memory_of, percentiles, user_key  # noqa: E402
from scale_queries import queries  # noqa: E402

from kb.access import Viewer  # noqa: E402
from kb.embedder import make_embedder  # noqa: E402
from kb.filters import parse_filters  # noqa: E402
from kb.knowledge_base import KnowledgeBase  # noqa: E402
from kb.models import DocumentDraft, Filters, SearchRequest  # noqa: E402
from kb.settings import Settings  # noqa: E402

MODES = ("keyword", "dense", "hybrid")
READER = Viewer("bench-reader", "reader", "internal")
TARGETS = {"p50": 20.0, "p95": 50.0, "http_rate": 50.0, "http_p95": 150.0, "rss": 2048.0,
           "ready": 10.0}  # fmt: skip


def parse_size(text: str) -> int:
    text = text.strip().lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("km")) * scale)


def label(size: int) -> str:
    return f"{size // 1_000_000}m" if size % 1_000_000 == 0 else f"{size // 1000}k"


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
    return row


def measure(size: int, out: Path, count: int, profile: bool) -> dict[str, Any]:
    """Child: open the built store as a server would and search it in process."""
    settings = Settings(store=out / f"store-{label(size)}")
    start = time.perf_counter()
    kb = KnowledgeBase(settings)
    kb.embedder.encode_queries(["warm up"])
    kb.index()
    row: dict[str, Any] = {"size": size, "open_s": time.perf_counter() - start}
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


def child(arguments: list[str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, *arguments], check=True, stdout=subprocess.PIPE, text=True
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def over_http(size: int, out: Path, clients: int, seconds: float, count: int) -> dict[str, Any]:
    store = out / f"store-{label(size)}"
    admin = user_key(store, "bench-admin", "admin", "confidential")
    reader = user_key(store, "bench-reader", "reader", "internal")
    requests = [
        Request({"query": t, "mode": "hybrid", "filters": f}, reader if r else admin)
        for t, f, r in queries(count)
    ]
    server = Server(store, out / f"serve-{label(size)}.log")
    try:
        ready = server.wait_ready(admin)
        row: dict[str, Any] = {"ready_s": ready}
        if ready is None:
            return row
        row["rss_mb"], _ = memory_of(server.process.pid)
        row.update(load(server.url, requests, clients, seconds))
        row["rss_after_mb"], row["peak_mb"] = memory_of(server.process.pid)
        return row
    finally:
        server.stop()


# -- the report --------------------------------------------------------------------------------


def triple(p: dict[str, float]) -> str:
    return f"{p['p50']:.1f} / {p['p95']:.1f} / {p['p99']:.1f}"


def tables(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| passages | documents | real texts | vectors: real / synthesised | build s | passages/s "
        "| index wait s | index | SQLite MiB | index MiB | build peak RSS MiB |",
        "|---:|---:|---:|---|---:|---:|---:|---|---:|---:|---:|",
    ]
    for r in rows:
        b = r["build"]
        how = "model in build" if b["real_vectors_in_build"] else "cached model vectors"
        texts = min(b.get("pool", b["passages"]), b["passages"])  # real texts (not variants)
        lines.append(
            f"| {b['passages']:,} | {b['documents']:,} | {texts:,} "
            f"| {b['real']:,} ({how}) / "
            f"{b['synthesised']:,} | {b['build_s']:.0f} | {b['passages'] / b['write_s']:.0f} "
            f"| {b['index_wait_s']:.1f} | {b['index']} | {b['sqlite_mb']:.0f} "
            f"| {b['index_mb']:.0f} | {b['build_peak_mb']:.0f} |"
        )
    base = rows[0]["search"]
    lines += [
        "",
        "| passages | mode | in process p50 / p95 / p99 ms | p50 vs smallest | open s "
        "| RSS MiB (peak) | recall@10 |",
        "|---:|---|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        s = r["search"]
        for mode in MODES:
            lines.append(
                f"| {r['build']['passages']:,} | {mode} | {triple(s[mode])} "
                f"| {s[mode]['p50'] / base[mode]['p50']:.1f}x | {s['open_s']:.1f} "
                f"| {s['rss_mb']:.0f} ({s['peak_mb']:.0f}) "
                f"| {s['recall']:.3f} ({s['recall_kind']}) |"
            )
    lines += [
        "",
        "| passages | ready s | server RSS MiB idle / after / peak | clients | hybrid searches/s "
        "| p50 / p95 / p99 ms | errors |",
        "|---:|---:|---|---:|---:|---|---:|",
    ]
    for r in rows:
        h = r["http"]
        if h.get("ready_s") is None:
            lines.append(f"| {r['build']['passages']:,} | not ready | | | | | |")
            continue
        lines.append(
            f"| {r['build']['passages']:,} | {h['ready_s']:.1f} | {h['rss_mb']:.0f} / "
            f"{h['rss_after_mb']:.0f} / {h['peak_mb']:.0f} | {h['clients']} "
            f"| {h['per_second']:.1f} | {triple(h)} | {h['errors']} {h['error_kinds'] or ''} |"
        )
    return "\n".join(lines) + "\n\n" + targets(rows[-1])


def targets(row: dict[str, Any]) -> str:
    s, h = row["search"], row["http"]
    ready = h.get("ready_s")
    checks = [
        ("hybrid in process p50 ms", "<= 20", s["hybrid"]["p50"], s["hybrid"]["p50"] <= 20),
        ("hybrid in process p95 ms", "<= 50", s["hybrid"]["p95"], s["hybrid"]["p95"] <= 50),
        ("HTTP hybrid searches/s", ">= 50", h.get("per_second", 0.0),
         h.get("per_second", 0.0) >= 50),
        ("HTTP hybrid p95 ms", "<= 150", h.get("p95", float("nan")), h.get("p95", 1e9) <= 150),
        ("server peak RSS MiB", "<= 2048", h.get("peak_mb", float("nan")),
         h.get("peak_mb", 1e9) <= 2048),
        ("server ready s", "<= 10", ready if ready is not None else float("nan"),
         ready is not None and ready <= 10),
    ]  # fmt: skip
    lines = [
        f"Targets (issue 7, stated for 1M passages) at {row['build']['passages']:,}:",
        "",
        "| metric | target | measured | met |",
        "|---|---|---:|---|",
    ]
    lines += [f"| {m} | {t} | {v:.1f} | {'yes' if ok else 'NO'} |" for m, t, v, ok in checks]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10k,100k,1m")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--real-max", type=parse_size, default=10_000)
    parser.add_argument(
        "--pool", type=parse_size, help="use only this many real passages (default: all ~43k)"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "scale")
    parser.add_argument("--reuse", action="store_true", help="keep stores already built")
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
        row["http"] = over_http(size, out, args.clients, args.seconds, args.queries)
        print(json.dumps(row), file=sys.stderr, flush=True)
        rows.append(row)
    header = (
        f"bench/scale.py --sizes {args.sizes} --clients {args.clients} --seconds "
        f"{args.seconds:g} --queries {args.queries}; "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}.\n"
        f"Texts: SciFact + UN General Debates 2015-2024 ({args.pool or 'all ~43k'} real "
        f"passages; real passages per store in the build table), then variants "
        f"(sentences shuffled, words swapped, new ids). Vectors: up to {args.real_max:,} "
        f"passages the real model embeds inside the build; above, real passages carry the real "
        f"model's cached vectors and variants their base vector plus noise (cosine ~0.95). "
        f"Queries always embedded by the real model; {args.queries} per mode, some filtered, "
        f"a third as a non-admin reader. HTTP: hybrid only, POST /search, {args.clients} "
        f"client threads on loopback.\n"
    )
    report = header + "\n" + tables(rows)
    print(report)
    (out / f"scale-{time.strftime('%Y%m%d-%H%M%S')}.md").write_text(report)


if __name__ == "__main__":
    main()
