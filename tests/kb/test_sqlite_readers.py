"""The pool of read connections: bounded, side by side, read-only, committed rows only, and
closed with the store."""

from __future__ import annotations

import sqlite3
import threading
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from kb.errors import StoreError
from kb.models import Filters
from kb.settings import Settings
from kb.store.readers import Readers
from kb.store.sqlite.connection import open_reader
from kb.store.sqlite.store import SQLiteStore
from tests.drafts import passage_draft


def add(store: SQLiteStore, *numbers: int) -> None:
    # Keyword search and document reads never look at vectors: one dimension is enough.
    drafts = [passage_draft(n, f"the ceasefire commission met in district {n}") for n in numbers]
    store.write_documents(drafts, [np.zeros((1, 1), np.float32)] * len(drafts))


@pytest.fixture
def store(tmp_path: Path) -> SQLiteStore:
    folder = SQLiteStore(tmp_path / "store", readers=2)
    add(folder, 0, 1)
    return folder


def test_readers_default_to_one_per_core() -> None:
    assert Settings(read_connections=3).readers == 3
    assert Settings().readers >= 1


def test_two_readers_are_lent_at_once_and_a_third_borrower_waits(store: SQLiteStore) -> None:
    readers = Readers(partial(open_reader, store.path), 2)
    holding = threading.Barrier(3, timeout=10)
    third_got_one = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with readers.borrow() as db:
            db.execute("SELECT count(*) FROM documents").fetchone()
            holding.wait()
            release.wait(10)

    def late() -> None:
        with readers.borrow():
            third_got_one.set()

    holders = [threading.Thread(target=hold) for _ in range(2)]
    for thread in holders:
        thread.start()
    holding.wait()  # both readers are out at the same time
    waiter = threading.Thread(target=late)
    waiter.start()
    assert not third_got_one.wait(0.3)  # the pool is bounded
    release.set()
    assert third_got_one.wait(10)  # and lends a returned reader on
    for thread in [*holders, waiter]:
        thread.join(10)
    readers.close()


def test_a_reader_cannot_write(store: SQLiteStore) -> None:
    readers = Readers(partial(open_reader, store.path), 1)
    with readers.borrow() as db, pytest.raises(sqlite3.OperationalError, match="readonly"):
        db.execute("DELETE FROM documents")
    readers.close()
    assert store.count_documents(Filters()) == 2


def test_reads_see_committed_writes_but_never_an_open_transaction(store: SQLiteStore) -> None:
    add(store, 2)
    assert store.count_documents(Filters()) == 3
    assert [c for c, _ in store.keyword_search('"district" AND "2"', Filters(), 10, 100)]
    # A write held open on the writer's connection is invisible to the readers until it commits.
    with store._transaction():  # noqa: SLF001 - the writer's own transaction is the point
        store._db.execute("UPDATE documents SET title = 'Changed' WHERE document_id = 'doc-0'")  # noqa: SLF001
        assert store.get_document("doc-0").title == "Report 0"  # type: ignore[union-attr]
    assert store.get_document("doc-0").title == "Changed"  # type: ignore[union-attr]


def test_the_generation_is_read_beside_a_write_in_progress(store: SQLiteStore) -> None:
    # Every search asks the generation several times; it must not wait for a write batch.
    before = store.generation()
    answers: list[int] = []
    with store._transaction():  # noqa: SLF001 - a write held open on the writer's connection
        store._bump_generation()  # noqa: SLF001
        asker = threading.Thread(target=lambda: answers.append(store.generation()))
        asker.start()
        asker.join(5)
        assert answers == [before]  # answered while the write is open: the committed value
    assert store.generation() == before + 1


def test_close_closes_idle_readers_and_refuses_new_borrowers(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "store", readers=2)
    add(store, 0)
    assert store.documents_by_id(["doc-0"])
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.documents_by_id(["doc-0"])
