"""Backup and restore: a consistent copy while the store is in use, and the same answers after."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from kb.backup import MANIFEST_NAME, backup_store, restore_store
from kb.embedding.embedder import Embedder
from kb.errors import InvalidRequestError
from kb.knowledge_base import KnowledgeBase
from kb.models import Filters, SearchRequest
from kb.settings import Settings
from kb.store.sqlite.dialect import DATABASE_NAME
from kb.vectors.index_file import HEADER_NAME, INDEX_NAME
from tests.api.conftest import load_corpus
from tests.kb.test_knowledge_base import TEXTS, draft

QUERIES = (
    SearchRequest("ceasefire monitoring by unarmed observers"),
    SearchRequest("cantonment sites", mode="keyword"),
    SearchRequest("refugees going home", mode="dense"),
    SearchRequest("power sharing", filters=Filters(doc_types=("agreement",))),
)

Answers = list[list[tuple[str, float, tuple[int, ...]]]]


def answers(kb: KnowledgeBase) -> Answers:
    """Ids, scores and shown passages of every query's results."""
    return [
        [
            (p.document_id, p.score, tuple(x.chunk_id for x in p.passages))
            for p in kb.search(q).results
        ]
        for q in QUERIES
    ]


@pytest.fixture
def corpus(kb: KnowledgeBase, tmp_path: Path) -> KnowledgeBase:
    return load_corpus(kb, tmp_path / "corpus")


def test_a_restored_backup_answers_every_query_the_same(
    corpus: KnowledgeBase, tmp_path: Path, embedder: Embedder
) -> None:
    before = answers(corpus)
    assert all(before)
    report = backup_store(corpus.settings.store, tmp_path / "backup")
    assert (report.documents, report.chunks) == (5, corpus.stats().chunks)
    assert (tmp_path / "backup" / MANIFEST_NAME).is_file()
    assert not (tmp_path / "backup" / INDEX_NAME).exists()  # rebuilt, never copied

    restored = Settings(store=tmp_path / "restored")
    restore_store(tmp_path / "backup", restored.store, wait_seconds=1)
    with KnowledgeBase(restored, embedder=embedder) as kb:
        assert kb.check() == []
        assert answers(kb) == before
    with KnowledgeBase(Settings(store=tmp_path / "backup"), embedder=embedder) as kb:
        assert answers(kb) == before  # a backup is itself a store


def wait_until(condition: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the writer made no progress"
        time.sleep(0.01)


def test_a_backup_taken_while_a_writer_writes_is_consistent(
    kb: KnowledgeBase, tmp_path: Path, embedder: Embedder
) -> None:
    kb.add([draft("ceasefire", TEXTS["ceasefire"])])
    stop = threading.Event()
    written: list[str] = []

    def write() -> None:
        n = 0
        while not stop.is_set():
            name = f"water-{n}"
            kb.add([draft(name, [f"{t} (copy {n})" for t in TEXTS["water"]] * (1 + n % 4))])
            written.append(name)
            n += 1

    writer = threading.Thread(target=write)
    writer.start()
    try:
        counts = []
        for n in range(4):
            # Let the writer get further before each backup, so each is taken mid-writes.
            wait_until(lambda n=n: len(written) > 2 * n)  # type: ignore[misc]
            report = backup_store(kb.settings.store, tmp_path / f"backup-{n}")
            with KnowledgeBase(Settings(store=tmp_path / f"backup-{n}"), embedder=embedder) as copy:
                assert copy.check() == []
                counts.append(copy.stats().documents)
            assert counts[-1] == report.documents
    finally:
        stop.set()
        writer.join()
    assert counts == sorted(counts) and counts[-1] > 1  # each a snapshot, taken mid-writes
    assert len(written) >= counts[-1] - 1


def test_restore_replaces_a_store_only_when_forced_and_open_readers_follow(
    corpus: KnowledgeBase, tmp_path: Path, embedder: Embedder
) -> None:
    other = Settings(store=tmp_path / "other")
    with KnowledgeBase(other, embedder=embedder) as kb:
        kb.add([draft("water", TEXTS["water"])])
    backup_store(other.store, tmp_path / "backup")
    corpus.search(SearchRequest("river flow", mode="dense"))  # its index is loaded and cached

    with pytest.raises(InvalidRequestError, match="holds 5 documents; pass --force"):
        restore_store(tmp_path / "backup", corpus.settings.store, wait_seconds=1)
    assert corpus.stats().documents == 5
    restore_store(tmp_path / "backup", corpus.settings.store, wait_seconds=1, force=True)

    # The reader that was open sees the restored store, not its cached index of the old one.
    found = corpus.search(SearchRequest("river flow", mode="dense"))
    assert [p.document_id for p in found.results] == ["water"]
    assert corpus.stats().documents == 1 and corpus.check() == []
    assert (corpus.settings.store / HEADER_NAME).is_file()


def test_restore_refuses_what_is_not_a_store(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a database")
    foreign = tmp_path / "foreign.sqlite"
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE t (x)")
    target = tmp_path / "store"
    for source, reason in (
        (text, "not a Precedent store: file is not a database"),
        (foreign, "not a Precedent store: it is an SQLite file without our tables"),
        (tmp_path / "nowhere", "not a Precedent store: no such file"),
        (tmp_path, "not a Precedent store: no such file"),  # a folder without kb.sqlite
    ):
        with pytest.raises(InvalidRequestError, match=reason):
            restore_store(source, target, wait_seconds=1)
    assert not (target / DATABASE_NAME).exists()


def test_backup_refuses_to_overwrite_a_store_unless_forced(
    corpus: KnowledgeBase, tmp_path: Path
) -> None:
    backup_store(corpus.settings.store, tmp_path / "backup")
    with pytest.raises(InvalidRequestError, match="already holds a store; pass --force"):
        backup_store(corpus.settings.store, tmp_path / "backup")
    assert backup_store(corpus.settings.store, tmp_path / "backup", force=True).documents == 5
    with pytest.raises(InvalidRequestError, match="no store at"):
        backup_store(tmp_path / "empty", tmp_path / "elsewhere")
