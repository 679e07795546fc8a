"""One writer at a time per store: the lock file, across threads and processes."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from kb.embedding.embedder import Embedder
from kb.errors import StoreBusyError
from kb.knowledge_base import KnowledgeBase
from kb.models import Filters, SearchRequest
from kb.settings import Settings
from kb.store.lock import WriterLock
from kb.store.sqlite.dialect import DATABASE_NAME
from kb.store.sqlite.store import SQLiteStore
from tests.kb.test_knowledge_base import TEXTS, draft

ROOT = Path(__file__).resolve().parents[2]
HOLDER = """
import sys
from pathlib import Path
from kb.store.lock import WriterLock
with WriterLock(Path(sys.argv[1]), 0).hold():
    print("held", flush=True)
    sys.stdin.read()
"""


def test_a_second_writer_is_told_who_holds_the_store(tmp_path: Path) -> None:
    with WriterLock(tmp_path, 0).hold():
        with pytest.raises(StoreBusyError) as caught:
            with WriterLock(tmp_path, 0.1).hold():
                pass
    message = caught.value.message
    assert str(tmp_path) in message and f"pid {os.getpid()}" in message
    assert "since" in message and "try again" in message
    with WriterLock(tmp_path, 0).hold():  # free again
        pass


def test_a_waiting_writer_gets_the_lock_once_the_holder_lets_go(tmp_path: Path) -> None:
    events: list[str] = []
    held = threading.Event()

    def hold_a_while() -> None:
        with WriterLock(tmp_path, 0).hold():
            held.set()
            time.sleep(0.3)
            events.append("released")

    thread = threading.Thread(target=hold_a_while)
    thread.start()
    held.wait()
    with WriterLock(tmp_path, 30).hold():
        events.append("acquired")
    thread.join()
    assert events == ["released", "acquired"]


def test_the_lock_is_reentrant_and_threads_take_turns(tmp_path: Path) -> None:
    lock = WriterLock(tmp_path, 30)
    inside = 0
    most = 0
    guard = threading.Lock()

    def write() -> None:
        nonlocal inside, most
        for _ in range(20):
            with lock.hold(), lock.hold():  # a write method calling another one
                with guard:
                    inside += 1
                    most = max(most, inside)
                time.sleep(0.001)
                with guard:
                    inside -= 1

    threads = [threading.Thread(target=write) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most == 1


def test_a_killed_holder_never_leaves_the_store_locked(tmp_path: Path) -> None:
    with subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    ) as holder:
        try:
            assert holder.stdout is not None and holder.stdout.readline() == "held\n"
            with pytest.raises(StoreBusyError, match=f"pid {holder.pid} "):
                with WriterLock(tmp_path, 0.1).hold():
                    pass
            holder.send_signal(signal.SIGKILL)
            holder.wait()
            with WriterLock(tmp_path, 10).hold():
                pass
        finally:
            holder.kill()


def test_writes_wait_for_the_lock_and_reads_never_do(tmp_path: Path, embedder: Embedder) -> None:
    settings = Settings(store=tmp_path / "store", write_wait_seconds=0.2)
    with KnowledgeBase(settings, embedder=embedder) as kb:
        kb.add([draft("ceasefire", TEXTS["ceasefire"])])
        with WriterLock(settings.store, 0).hold():
            with pytest.raises(StoreBusyError, match="being written by"):
                kb.add([draft("water", TEXTS["water"])])
            with pytest.raises(StoreBusyError):
                kb.delete("ceasefire")
            found = kb.search(SearchRequest("observers verify the ceasefire", Filters()))
            assert [p.document_id for p in found.results] == ["ceasefire"]
        assert kb.missing(["ceasefire", "water"]) == ["water"]
        assert kb.check() == []
        kb.add([draft("water", TEXTS["water"])])
        assert kb.missing(["ceasefire", "water"]) == []


def test_sqlite_giving_up_on_its_lock_is_a_busy_error(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path)
    other = sqlite3.connect(tmp_path / DATABASE_NAME, isolation_level=None)
    try:
        store._db.execute("PRAGMA busy_timeout = 50")  # not the 30 s a real store waits
        other.execute("BEGIN IMMEDIATE")  # a writer that ignores our lock file
        with pytest.raises(StoreBusyError, match="locked") as caught:
            store.set_meta("note", "x")
        assert str(tmp_path) in caught.value.message
        assert store.get_meta("note") is None  # readers still read
        other.execute("ROLLBACK")
        store.set_meta("note", "x")
        assert store.get_meta("note") == "x"
    finally:
        other.close()
        store.close()
