"""Preparing files ahead in a thread: same outcomes in the same order as reading in turn, and
an error or Ctrl-C stops the thread and the parsing worker (no hang, no orphan process)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.outcomes import ItemOutcome
from ingest.pipeline import ingest_paths
from ingest.prefetch import Prefetch
from kb.embedding.embedder import Embedder
from kb.knowledge_base import KnowledgeBase
from kb.settings import Settings
from tests.crashing import KB, POLL_SECONDS
from tests.docs import make_corrupt_pdf, make_pdf, write

HANG_GUARD_SECONDS = 120  # only so a broken stop fails the test instead of hanging it


def mixed_folder(folder: Path) -> None:
    for n in range(6):
        pages = [f"Observers at site {n} verified the cantonment.", f"Weapons stored at {n}."]
        write(folder, f"a-{n}.pdf", make_pdf(pages, title=f"Site {n}"))
    write(folder, "b-broken.pdf", make_corrupt_pdf())
    write(folder, "c-notes.md", "# Notes\n\nThe truce held through the rainy season.")
    write(folder, "d-again.md", "# Again\n\nThe same id as the notes, by its sidecar.")
    write(folder, "d-again.meta.json", json.dumps({"document_id": "c-notes"}))
    records = [
        {"_id": f"r{n}", "title": f"R{n}", "text": f"Clause {n} on prisoners."} for n in range(5)
    ]
    write(folder, "e-records.jsonl", "\n".join(json.dumps(r) for r in records))


def run(
    settings: Settings, embedder: Embedder, folder: Path
) -> tuple[list[ItemOutcome], list[str]]:
    seen: list[str] = []
    with KnowledgeBase(settings, embedder=embedder) as kb:
        report = ingest_paths(kb, [folder], on_item=lambda o: seen.append(o.source))
    return report.outcomes, seen


def test_prefetching_reports_what_reading_in_turn_reports_in_the_same_order(
    tmp_path: Path, embedder: Embedder
) -> None:
    folder = tmp_path / "in"
    mixed_folder(folder)
    small = {"ingest_batch_chunks": 3}
    turn = Settings(store=tmp_path / "turn", ingest_prefetch=0, **small)
    ahead = Settings(store=tmp_path / "ahead", ingest_prefetch=2, **small)

    in_turn, seen_in_turn = run(turn, embedder, folder)
    prefetched, seen_prefetched = run(ahead, embedder, folder)

    assert prefetched == in_turn
    assert seen_prefetched == seen_in_turn == [o.source for o in prefetched]
    statuses = {Path(o.source).name.split(" ")[0]: o.status for o in prefetched}
    assert statuses["b-broken.pdf"] == "failed"  # one bad file, the rest go on
    assert statuses["d-again.md"] == "failed"  # the duplicate id in one batch, still caught
    assert sum(o.status == "added" for o in prefetched) == 6 + 1 + 5
    assert not any(t.name == "ingest-prefetch" for t in threading.enumerate())


def test_an_error_in_the_consumer_stops_the_producer_and_aborts_the_parse() -> None:
    release = threading.Event()
    aborted: list[bool] = []

    def prepare(n: int) -> Iterator[int]:
        if n == 2:
            release.wait()  # a parse that would take long: only the abort ends it
        yield n

    def abort() -> None:
        aborted.append(True)
        release.set()

    prefetch = Prefetch(range(100), prepare, depth=1, abort=abort)
    with pytest.raises(KeyboardInterrupt), prefetch as items:
        for n in items:
            if n == 1:
                raise KeyboardInterrupt
    assert aborted == [True]
    assert not any(t.name == "ingest-prefetch" for t in threading.enumerate())


def test_an_error_in_the_producer_is_raised_in_the_consumer_after_the_items_before_it() -> None:
    def prepare(n: int) -> Iterator[int]:
        if n == 3:
            raise RuntimeError("boom at 3")
        yield n

    got: list[int] = []
    with pytest.raises(RuntimeError, match="boom at 3"), Prefetch(range(10), prepare, 2) as items:
        got.extend(items)
    assert got == [0, 1, 2]


def _children(pid: int) -> list[int]:
    """Child processes of every thread of `pid` (the worker is started by the reading thread)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found.extend(int(c) for c in (task / "children").read_text().split())
        except OSError:
            continue
    return found


def _running(pid: int) -> bool:
    """Whether the process is there and not a zombie waiting to be reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
def test_ctrl_c_during_an_ingest_stops_it_and_its_parsing_worker(
    tmp_path: Path, embedder: Embedder
) -> None:
    folder = tmp_path / "in"
    files = 200
    for n in range(files):
        pages = [f"Page one of report {n} on the cantonment.", f"Page two of report {n}."]
        write(folder, f"report-{n:03d}.pdf", make_pdf(pages, title=f"Report {n}"))
    store = tmp_path / "store"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    env.update(HF_HUB_OFFLINE="1", KB_INGEST_BATCH_CHUNKS="2", KB_INGEST_PREFETCH="4")
    with KnowledgeBase(Settings(store=store), embedder=embedder) as watcher:
        start = watcher.store.generation()
        with subprocess.Popen(
            [str(KB), "--store", str(store), "ingest", str(folder), "--json"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # A shell running the tests in the background ignores SIGINT, and children inherit
            # that: give the ingest the terminal's default, as a user's Ctrl-C meets it.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        ) as process:
            # After the first commit the worker is parsing ahead while batches are embedded.
            while process.poll() is None and watcher.store.generation() == start:
                threading.Event().wait(POLL_SECONDS)
            workers = _children(process.pid)
            process.send_signal(signal.SIGINT)
            code = process.wait(timeout=HANG_GUARD_SECONDS)
        assert len(workers) == 1, workers  # its parsing worker, while it ran
        assert code != 0
        assert not _running(workers[0])  # stopped, not left behind
        assert 0 < watcher.stats().documents < files  # interrupted halfway, what landed is whole
        assert watcher.check() == []
