"""Crash safety: `kb ingest` killed with SIGKILL at many points never leaves a half document.

After each kill the store is reopened and checked: every document holds exactly the passages it
is chunked into (passages, vectors, FTS rows and FAISS ids agreeing, `KnowledgeBase.check`) or
is absent, and no document the store held before the kill is lost. Then the same ingest, run
again, finishes the job: every document present exactly once.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from kb.embedder import Embedder
from tests.crashing import KB, crash_settings, finish, kill_once, opened, present, write_corpus

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
        DOCUMENTS - landed[-1], landed[-1], 0,
    )
    with opened(settings, embedder) as kb:
        assert present(kb, corpus) == corpus.passages
        assert kb.check() == []
        stats = kb.stats()
    assert stats.chunks == stats.index_vectors == sum(corpus.passages.values())
