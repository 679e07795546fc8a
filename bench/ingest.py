"""The ingest pipeline: does preparing files ahead pay, which transaction size, what a re-run costs.

    .venv/bin/python bench/ingest.py [--pdfs 30] [--records 1000] [--rounds 2] [--backend onnx]

1. PDFs: the first N files of ../shared/corpora/reliefweb-humanitarian-reports/pdfs, ingested
   into a fresh store read in turn (KB_INGEST_PREFETCH=0) and read ahead (the default), rounds
   interleaved so other load on the machine falls on both alike; then the same folder again
   into the filled store (every file recognised as stored, none parsed).
2. Padding: every SciFact passage, grouped into transactions as the batch writer groups them,
   sorted by token length and cut into model batches as the ONNX embedder does: tokens run
   through the model per real token, by transaction size (exact: does not depend on load).
3. Records: the first N SciFact records, one fresh store per transaction size
   (KB_INGEST_BATCH_CHUNKS), read ahead and in turn: documents/s, and seconds until the first
   outcome (how soon progress shows).
Prints Markdown for bench/RESULTS.md; asserts nothing. Files are read where they are.
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

from ingest.chunking import Page, chunk_pages  # noqa: E402
from ingest.outcomes import IngestReport, ItemOutcome  # noqa: E402
from ingest.pipeline import IngestOptions, ingest_files  # noqa: E402
from ingest.readers import Record, read_records  # noqa: E402
from kb.embedding.backends import make_embedder  # noqa: E402
from kb.embedding.embedder import Embedder  # noqa: E402
from kb.knowledge_base import KnowledgeBase  # noqa: E402
from kb.settings import Settings  # noqa: E402

CORPORA = ROOT.parent / "shared" / "corpora"
BATCH_SIZES = (64, 256, 512, 1024, 4096)


def run(
    settings: Settings, embedder: Embedder, files: list[Path]
) -> tuple[float, float, int, IngestReport]:
    """(seconds, seconds to the first outcome, passages stored, report) for one ingest."""
    started = time.perf_counter()
    first: list[float] = []

    def on_item(_: ItemOutcome) -> None:
        if not first:
            first.append(time.perf_counter() - started)

    with KnowledgeBase(settings, embedder=embedder) as kb:
        report = ingest_files(kb, files, IngestOptions(), on_item)
        seconds = time.perf_counter() - started
        chunks = kb.stats().chunks
    return seconds, first[0] if first else seconds, chunks, report


def fresh(out: Path, name: str, backend: str, **values: int) -> Settings:
    store = out / name
    shutil.rmtree(store, ignore_errors=True)
    return Settings(store=store, embedder=backend, **values)  # type: ignore[arg-type]


def pdfs(embedder: Embedder, backend: str, count: int, rounds: int, out: Path) -> None:
    folder = CORPORA / "reliefweb-humanitarian-reports" / "pdfs"
    files = sorted(folder.glob("*.pdf"))[:count]
    if not files:
        print(f"(no PDFs at {folder}: skipped)")
        return
    modes = {"in turn": 0, "read ahead": Settings().ingest_prefetch}
    seconds: dict[str, list[float]] = {m: [] for m in modes}
    outcome = ""
    chunks = 0
    for _ in range(rounds):
        for mode, prefetch in modes.items():
            settings = fresh(out, "pdfs", backend, ingest_prefetch=prefetch)
            took, _, chunks, report = run(settings, embedder, files)
            seconds[mode].append(took)
            outcome = ", ".join(f"{n} {s}" for s, n in report.counts().items() if n)
    again, _, _, report = run(settings, embedder, files)
    megabytes = sum(f.stat().st_size for f in files) / 1048576
    print(
        f"PDFs: the first {len(files)} of reliefweb-humanitarian-reports ({megabytes:.1f} MiB, "
        f"{chunks} passages; {outcome}), backend {backend}, median of {rounds} interleaved rounds"
    )
    print()
    print("| mode | seconds | documents/s | passages/s |")
    print("|---|---|---|---|")
    for mode in modes:
        took = statistics.median(seconds[mode])
        print(f"| {mode} | {took:.1f} | {len(files) / took:.2f} | {chunks / took:.1f} |")
    ratio = statistics.median(seconds["in turn"]) / statistics.median(seconds["read ahead"])
    print(f"| read ahead ÷ in turn (speed) | {ratio:.2f}× | | |")
    print(
        f"| re-run into the filled store | {again:.2f} | {len(files) / again:.1f} | "
        f"({report.counts()['unchanged']} unchanged, {report.not_parsed} not parsed) |"
    )
    print()


def padding(backend: str) -> None:
    source = CORPORA / "beir-scifact" / "corpus.jsonl"
    if not source.is_file() or backend != "onnx":
        return
    from kb.embedding.onnx_embedder import OnnxEmbedder

    settings = Settings()
    _, tokenizer = OnnxEmbedder(settings).load()
    per_document: list[list[int]] = []  # token lengths of each document's passages
    for record in read_records(source.name, source.read_bytes()):
        if isinstance(record, Record):
            pages = (Page(1, record.text or record.title),)
            texts = [
                c.text
                for c in chunk_pages(pages, settings.chunk_words, settings.chunk_overlap_words)
            ]
            per_document.append([len(e.ids) for e in tokenizer.encode_batch(texts)])
    real = sum(sum(lengths) for lengths in per_document)
    print(
        f"Padding: all {len(per_document)} SciFact documents, "
        f"{sum(map(len, per_document))} passages, {real} tokens; model batches of "
        f"{settings.embed_batch_size} (KB_EMBED_BATCH_SIZE)"
    )
    print()
    print("| KB_INGEST_BATCH_CHUNKS | transactions | tokens run ÷ real | token² run ÷ real |")
    print("|---|---|---|---|")
    for size in (settings.embed_batch_size, *BATCH_SIZES, 10**9):
        groups: list[list[int]] = [[]]
        for lengths in per_document:  # whole documents, flushed at `size` passages or more
            groups[-1].extend(lengths)
            if len(groups[-1]) >= size:
                groups.append([])
        run, run2, real2 = 0, 0, 0
        for group in filter(None, groups):
            ordered = sorted(group)
            for start in range(0, len(ordered), settings.embed_batch_size):
                batch = ordered[start : start + settings.embed_batch_size]
                run += max(batch) * len(batch)
                run2 += max(batch) ** 2 * len(batch)
                real2 += sum(n * n for n in batch)
        label = "all at once" if size == 10**9 else str(size)
        count = len(list(filter(None, groups)))
        print(f"| {label} | {count} | {run / real:.3f} | {run2 / real2:.3f} |")
    print()


def records(embedder: Embedder, backend: str, count: int, out: Path) -> None:
    source = CORPORA / "beir-scifact" / "corpus.jsonl"
    if not source.is_file():
        print(f"(no SciFact at {source}: skipped)")
        return
    subset = out / f"scifact-{count}.jsonl"
    out.mkdir(parents=True, exist_ok=True)
    with source.open(encoding="utf-8") as lines:
        subset.write_text("".join(line for _, line in zip(range(count), lines, strict=False)))
    print(f"Records: the first {count} SciFact documents, backend {backend}, one run each")
    print()
    print("| KB_INGEST_BATCH_CHUNKS | prefetch | seconds | documents/s | first outcome after s |")
    print("|---|---|---|---|---|")
    for size in BATCH_SIZES:
        for prefetch in (0, Settings().ingest_prefetch):
            settings = fresh(
                out, "records", backend, ingest_batch_chunks=size, ingest_prefetch=prefetch
            )
            took, first, _, _ = run(settings, embedder, [subset])
            print(f"| {size} | {prefetch} | {took:.1f} | {count / took:.1f} | {first:.2f} |")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pdfs", type=int, default=30, help="PDFs to ingest (0: none)")
    parser.add_argument("--records", type=int, default=1000, help="SciFact records (0: none)")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds for the PDFs")
    parser.add_argument("--backend", choices=("onnx", "torch"), default="onnx")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/out/ingest")
    args = parser.parse_args()
    embedder = make_embedder(Settings(embedder=args.backend))
    embedder.encode_queries(["warm up"])  # load (and export) outside the timings
    print(
        f"Ingest pipeline, {time.strftime('%Y-%m-%d %H:%M')}, {platform.node()}, "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start"
    )
    print()
    if args.pdfs:
        pdfs(embedder, args.backend, args.pdfs, args.rounds, args.out)
    padding(args.backend)
    if args.records:
        records(embedder, args.backend, args.records, args.out)


if __name__ == "__main__":
    main()
