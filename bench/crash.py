"""Crash benchmark: kill `kb ingest` with SIGKILL many times and count what is lost.

Each kill starts the installed `kb ingest` on a generated corpus (text files with sidecars),
waits for its k-th commit (k = 0 kills during start-up) plus a random delay, sends SIGKILL,
reopens the store and checks it (`tests/crashing.py`). When the corpus is complete the store is
started afresh. Prints one table for bench/RESULTS.md.

    .venv/bin/python bench/crash.py --kills 100
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from kb.embedding.backends import make_embedder  # noqa: E402
from kb.embedding.embedder import Embedder  # noqa: E402
from kb.settings import Settings  # noqa: E402
from tests.crashing import (  # noqa: E402
    Corpus,
    Kill,
    crash_settings,
    finish,
    kill_once,
    opened,
    present,
    write_corpus,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=100, help="SIGKILLs to send")
    parser.add_argument("--documents", type=int, default=120, help="documents in the corpus")
    parser.add_argument("--most-commits", type=int, default=6, help="largest k to wait for")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "crash")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    shutil.rmtree(args.out, ignore_errors=True)
    settings = crash_settings(args.out / "store")
    corpus = write_corpus(args.out / "corpus", args.documents, settings, seed=args.seed)
    embedder = make_embedder(Settings())
    kills: list[Kill] = []
    rounds = 0
    lost_by_rerun = 0
    started = time.perf_counter()
    while len(kills) < args.kills:
        commits = rng.randint(0, args.most_commits)
        kill = kill_once(settings, corpus, embedder, commits, rng.uniform(0, 0.1))
        kills.append(kill)
        print(f"kill {len(kills)}: {kill}", file=sys.stderr)
        if kill.present_after == len(corpus.passages):
            # Complete: prove the rerun finds every document once, then start afresh.
            lost_by_rerun += check_rerun(settings, corpus, embedder)
            rounds += 1
            shutil.rmtree(settings.store)
    lost_by_rerun += check_rerun(settings, corpus, embedder)
    rounds += 1
    elapsed = time.perf_counter() - started
    print_table(args, kills, rounds, lost_by_rerun, elapsed)


def check_rerun(settings: Settings, corpus: Corpus, embedder: Embedder) -> int:
    """Run the ingest to the end; documents missing or wrong afterwards."""
    finish(settings, corpus)
    with opened(settings, embedder) as kb:
        found = present(kb, corpus)
        assert kb.check() == []
    return sum(1 for d, n in corpus.passages.items() if found.get(d) != n)


def print_table(
    args: argparse.Namespace, kills: list[Kill], rounds: int, rerun_wrong: int, elapsed: float
) -> None:
    stages = Counter(k.stage for k in kills)
    lost = sum(len(k.lost) for k in kills)
    partial = sum(len(k.partial) for k in kills)
    problems = sum(1 for k in kills if k.problems)
    print(
        f"Crash safety, {time.strftime('%Y-%m-%d')}, {platform.node()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}\n"
    )
    print(
        f"corpus: {args.documents} generated documents, "
        f"{settings_line()}; {rounds} complete ingests\n"
    )
    print(
        "| kills tried | in start-up | after a commit, index stale | index current "
        "| documents lost | partial documents | stores with problems | reruns incomplete "
        "| time s |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print(
        f"| {len(kills)} | {stages['start-up']} | {stages['index stale']} | "
        f"{stages['index current']} | {lost} | {partial} | {problems} | {rerun_wrong} | "
        f"{elapsed:.0f} |"
    )


def settings_line() -> str:
    s = crash_settings(Path("."))
    return f"{s.chunk_words}-word passages, {s.ingest_batch_chunks} passages per transaction"


if __name__ == "__main__":
    main()
