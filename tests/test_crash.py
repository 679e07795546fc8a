"""Crash safety: `kb ingest` killed with SIGKILL at many points never leaves a half document.

After each kill the store is reopened and checked: every document holds exactly the passages it
is chunked into (passages, vectors, FTS rows and FAISS ids agreeing, `KnowledgeBase.check`) or
is absent, and no document the store held before the kill is lost. Then the same ingest, run
again, finishes the job: every document present exactly once.
"""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from kb.embedding.embedder import Embedder
from kb.store.original_files import OriginalFiles
from tests.crashing import (
    KB,
    Corpus,
    crash_settings,
    environment,
    finish,
    ingest_command,
    kill_once,
    opened,
    present,
    write_corpus,
)

DOCUMENTS = 60
# (commits to wait for, then a random delay up to this many seconds): early and late, inside
# the transaction, between commit and index save, and while the next batch is embedded.
KILLS = ((1, 0.0), (1, 0.03), (2, 0.01), (3, 0.05), (2, 0.2), (4, 0.02))


@pytest.mark.slow
def test_killed_ingests_leave_every_document_whole_or_absent(
    tmp_path: Path, embedder: Embedder
) -> None:
    assert KB.is_file(), f"the console script is not installed at {KB}"
    settings = crash_settings(tmp_path / "store")
    corpus = write_corpus(tmp_path / "corpus", DOCUMENTS, settings)
    rng = random.Random(4)
    kills = [
        kill_once(settings, corpus, embedder, commits, rng.uniform(0, most))
        for commits, most in KILLS
    ]

    for kill in kills:
        assert kill.lost == () and kill.partial == () and kill.problems == (), kill
        assert kill.present_after >= kill.present_before
    landed = [k.present_after for k in kills]
    assert landed == sorted(landed) and 0 < landed[-1] < DOCUMENTS, landed

    report = finish(settings, corpus)
    assert (report["added"], report["unchanged"], report["failed"]) == (
        DOCUMENTS - landed[-1],
        landed[-1],
        0,
    )
    assert report["not_parsed"] == landed[-1]  # recognised by id and hash, not read again
    with opened(settings, embedder) as kb:
        assert present(kb, corpus) == corpus.passages
        assert kb.check() == []
        stats = kb.stats()
    assert stats.chunks == stats.index_vectors == sum(corpus.passages.values())


def test_a_kill_between_an_originals_write_and_its_commit_leaves_an_orphan_only(
    tmp_path: Path, embedder: Embedder
) -> None:
    """Hold SQLite's write lock so the ingest must wait at its transaction, after its file is
    written; kill it there. The store is whole, the file is noted as an orphan, and the same
    ingest run again names it."""
    settings = crash_settings(tmp_path / "store")
    corpus = write_corpus(tmp_path / "corpus", 2, settings)
    first, second = sorted(corpus.folder.glob("*.txt"))
    (tmp_path / "later").mkdir()
    for path in (second, second.with_suffix(".meta.json")):
        path.rename(tmp_path / "later" / path.name)
    assert finish(settings, Corpus(corpus.folder, {}))["added"] == 1  # the store exists
    later = Corpus(tmp_path / "later", {})
    originals = OriginalFiles(settings.store)
    before = originals.stored()
    blocker = sqlite3.connect(settings.store / "kb.sqlite", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # the writer's transaction now waits (busy_timeout)
    try:
        with subprocess.Popen(
            ingest_command(settings, later),
            env=environment(settings),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ) as process:
            deadline = time.monotonic() + 120
            while originals.stored() == before and process.poll() is None:
                assert time.monotonic() < deadline, "the ingest never wrote its original"
                time.sleep(0.01)
            process.send_signal(signal.SIGKILL)
            process.wait()
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    orphan = originals.path((originals.stored() - before).pop())
    assert orphan.read_bytes() == (tmp_path / "later" / second.name).read_bytes()
    with opened(settings, embedder) as kb:
        assert kb.check() == []
        assert len(kb.check_notes()) == 1 and orphan.name in kb.check_notes()[0]
        assert kb.missing([first.stem, second.stem]) == [second.stem]
    assert finish(settings, later)["added"] == 1
    with opened(settings, embedder) as kb:
        assert kb.check() == [] and kb.check_notes() == []
        assert kb.original(second.stem)[1] == orphan


def test_an_ingest_killed_after_its_first_commit_resumes_without_reading_stored_files(
    tmp_path: Path, embedder: Embedder
) -> None:
    """SIGKILL once the first batch is committed; the same ingest run again adds the rest and
    reports what was stored as unchanged and not parsed again (by id and file hash)."""
    settings = crash_settings(tmp_path / "store")
    corpus = write_corpus(tmp_path / "corpus", 30, settings)

    kill = kill_once(settings, corpus, embedder, after_commits=1, delay=0.0)
    assert kill.problems == () and kill.partial == ()
    assert 0 < kill.present_after < 30, kill

    report = finish(settings, corpus)

    stored = kill.present_after
    assert (report["added"], report["unchanged"], report["failed"]) == (30 - stored, stored, 0)
    assert report["not_parsed"] == stored
    with opened(settings, embedder) as kb:
        assert present(kb, corpus) == corpus.passages  # every document once, whole
        assert kb.check() == []
