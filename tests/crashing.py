"""Kill `kb ingest` with SIGKILL mid-run and prove the store it leaves: the crash harness.

Used by `tests/test_crash.py` (a few kills) and `bench/crash.py` (many). The ingest is the
installed console script in its own process; the store is then reopened the way a user would
and checked: every document whole (its passage count as chunked, passages == vectors == FTS
rows == FAISS ids) or absent, and nothing the store held before the kill lost.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.pipeline import IngestOptions, prepare_file
from kb.embedding.embedder import Embedder
from kb.knowledge_base import KnowledgeBase
from kb.models import Filters
from kb.settings import Settings
from kb.vectors.index_file import HEADER_NAME

KB = Path(sys.executable).parent / "kb"
POLL_SECONDS = 0.005
WORDS = (
    "ceasefire monitoring observers withdrawal cantonment demobilisation refugees return "
    "property commission water river basin drought elections constitution amnesty police "
    "reform boundary demarcation mediator parties guarantor verification timetable militia "
    "integration army budget revenue oil grazing land customary court truce village road "
    "prisoners exchange humanitarian corridor convoy landmines clearance federal autonomy"
).split()


@dataclass(frozen=True)
class Corpus:
    folder: Path
    passages: dict[str, int]  # document_id -> passages it is chunked into


@dataclass(frozen=True)
class Kill:
    """One SIGKILL and what the reopened store looked like."""

    after_commits: int
    delay: float
    stage: str  # "start-up" (nothing written yet), "index stale" or "index current"
    present_before: int
    present_after: int
    lost: tuple[str, ...]
    partial: tuple[str, ...]
    problems: tuple[str, ...]


def crash_settings(store: Path) -> Settings:
    """Small passages and small transactions: many commit points in a short ingest."""
    return Settings(store=store, chunk_words=40, chunk_overlap_words=5, ingest_batch_chunks=12)


def write_corpus(folder: Path, documents: int, settings: Settings, seed: int = 7) -> Corpus:
    """Text files of 30-250 words with sidecars; their passage counts as the ingest chunks them."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    passages: dict[str, int] = {}
    for n in range(documents):
        words = [rng.choice(WORDS) for _ in range(rng.randint(30, 250))]
        sentences = [
            " ".join(words[i : i + 12]).capitalize() + "." for i in range(0, len(words), 12)
        ]
        text = f"Crash test document {n}.\n\n" + "\n\n".join(
            " ".join(sentences[i : i + 3]) for i in range(0, len(sentences), 3)
        )
        sidecar = {
            "title": f"Crash document {n}",
            "doc_type": "agreement",
            "date": f"{1990 + n % 30}-01-01",
            "parties": ["Valdoria", f"Party {n % 7}"],
            "stage": "ceasefire",
        }
        name = f"crash-{n:04d}.txt"
        (folder / name).write_text(text, encoding="utf-8")
        (folder / f"crash-{n:04d}.meta.json").write_text(json.dumps(sidecar))
        draft = prepare_file(name, text.encode(), sidecar, IngestOptions(), settings)
        passages[draft.document_id] = len(draft.chunks)
    return Corpus(folder, passages)


def environment(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    env.update(
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        KB_CHUNK_WORDS=str(settings.chunk_words),
        KB_CHUNK_OVERLAP_WORDS=str(settings.chunk_overlap_words),
        KB_INGEST_BATCH_CHUNKS=str(settings.ingest_batch_chunks),
    )
    return env


def ingest_command(settings: Settings, corpus: Corpus) -> list[str]:
    return [str(KB), "--store", str(settings.store), "ingest", str(corpus.folder), "--json"]


@contextmanager
def opened(settings: Settings, embedder: Embedder) -> Iterator[KnowledgeBase]:
    with KnowledgeBase(settings, embedder=embedder) as kb:
        yield kb


def present(kb: KnowledgeBase, corpus: Corpus) -> dict[str, int]:
    """Documents in the store and their passage counts."""
    _, documents = kb.list_documents(Filters(), limit=len(corpus.passages) + 1)
    return {d.document_id: d.chunk_count for d in documents}


def kill_once(
    settings: Settings, corpus: Corpus, embedder: Embedder, after_commits: int, delay: float
) -> Kill:
    """Start an ingest, SIGKILL it `delay` seconds after its `after_commits`-th commit (or at
    once for 0), then reopen the store and look at everything."""
    with opened(settings, embedder) as watcher:
        start = watcher.store.generation()
        with subprocess.Popen(
            ingest_command(settings, corpus),
            env=environment(settings),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ) as process:
            while process.poll() is None and watcher.store.generation() < start + after_commits:
                time.sleep(POLL_SECONDS)
            time.sleep(delay)
            before = present(watcher, corpus)  # all of it must survive the kill
            process.send_signal(signal.SIGKILL)
            process.wait()
    stage = _stage(settings, embedder, start)
    with opened(settings, embedder) as kb:  # reopen, as the next command would
        after = present(kb, corpus)
        problems = tuple(kb.check())
    return Kill(
        after_commits=after_commits,
        delay=delay,
        stage=stage,
        present_before=len(before),
        present_after=len(after),
        lost=tuple(sorted(set(before) - set(after))),
        partial=tuple(sorted(d for d, n in after.items() if n != corpus.passages.get(d))),
        problems=problems,
    )


def _stage(settings: Settings, embedder: Embedder, start: int) -> str:
    """Where the kill landed, judged from what it left on disk (read before reopening)."""
    with opened(settings, embedder) as kb:
        generation = kb.store.generation()
    if generation == start:
        return "start-up"
    try:
        header: dict[str, Any] = json.loads((settings.store / HEADER_NAME).read_text())
    except (OSError, ValueError):
        return "index stale"
    return "index current" if header.get("generation") == generation else "index stale"


def finish(settings: Settings, corpus: Corpus) -> dict[str, Any]:
    """Run the ingest again to the end; its JSON report."""
    done = subprocess.run(
        ingest_command(settings, corpus),
        env=environment(settings),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, (done.stdout, done.stderr)
    report: dict[str, Any] = json.loads(done.stdout)
    return report
