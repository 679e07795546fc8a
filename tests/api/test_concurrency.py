"""Concurrency against a real server: searches while two writers ingest, and a busy store.

A uvicorn server on a free loopback port serves a store; client threads search it over HTTP
while a `kb ingest` process and HTTP uploads write to it. No search may fail, and no result
may show a document other than whole.
"""

from __future__ import annotations

import os
import random
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import uvicorn

from api.app import create_app
from kb.embedding.embedder import Embedder
from kb.knowledge_base import KnowledgeBase
from kb.settings import Settings
from kb.store.lock import WriterLock
from tests.api.conftest import add_user, bearer, load_corpus
from tests.crashing import KB, WORDS, crash_settings, environment, ingest_command, write_corpus

READERS = 4
UPLOADS = 8
INGESTED = 40


@contextmanager
def serving(settings: Settings, embedder: Embedder) -> Iterator[str]:
    """A real uvicorn server over the store, in a thread; yields its base URL."""
    with KnowledgeBase(settings, embedder=embedder) as kb:
        config = uvicorn.Config(
            create_app(settings, kb=kb), host="127.0.0.1", port=0, log_level="warning"
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the server did not start")
            threading.Event().wait(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            thread.join()


@dataclass
class Tally:
    searches: int = 0
    errors: list[str] = field(default_factory=list)
    checked: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def error(self, what: str) -> None:
        with self.lock:
            self.errors.append(what)


def search_until(
    url: str, key: str, done: threading.Event, expected: dict[str, int], tally: Tally, seed: int
) -> None:
    """Search until the writers are done (and once more after), checking every result."""
    rng = random.Random(seed)
    with httpx.Client(base_url=url, timeout=60, headers=bearer(key)) as http:
        last = False
        while not last:
            last = done.is_set()
            query = " ".join(rng.sample(WORDS, 3))
            try:
                found = http.get("/search", params={"q": query, "limit": 10})
            except httpx.HTTPError as exc:
                tally.error(f"{query}: {exc!r}")
                continue
            if found.status_code != 200:
                tally.error(f"{query}: {found.status_code} {found.text}")
                continue
            with tally.lock:
                tally.searches += 1
            for result in found.json()["results"]:
                check_whole(http, result, expected, tally)


def check_whole(
    http: httpx.Client, result: dict[str, object], expected: dict[str, int], tally: Tally
) -> None:
    """A result's document is whole: all its passages stored, the shown ones among them."""
    document_id = str(result["document_id"])
    if document_id not in expected:
        return  # one of the five documents stored before the run
    document = http.get(f"/documents/{document_id}")
    if document.status_code != 200:
        tally.error(f"GET {document_id}: {document.status_code} {document.text}")
        return
    body = document.json()
    stored = {c["chunk_id"] for c in body["chunks"]}
    shown = {p["chunk_id"] for p in result["passages"]}  # type: ignore[attr-defined]
    if not (body["chunk_count"] == len(stored) == expected[document_id] and shown <= stored):
        tally.error(f"{document_id}: {len(stored)} of {expected[document_id]} passages, {shown}")
    with tally.lock:
        tally.checked.add(document_id)


def upload_all(url: str, key: str, folder: Path, expected: dict[str, int], tally: Tally) -> None:
    rng = random.Random(11)
    with httpx.Client(base_url=url, timeout=120, headers=bearer(key)) as http:
        for n in range(UPLOADS):
            document_id = f"upload-{n}"
            text = f"# Upload {n}\n\n" + " ".join(rng.choice(WORDS) for _ in range(60 + 40 * n))
            sent = http.post(
                "/documents",
                files={"file": (f"{document_id}.md", text.encode(), "text/markdown")},
                data={"document_id": document_id},
            )
            if sent.status_code != 201:
                tally.error(f"upload {n}: {sent.status_code} {sent.text}")
                continue
            expected[document_id] = sent.json()["chunks"]


@pytest.mark.slow
def test_searches_never_fail_nor_see_half_a_document_while_two_writers_ingest(
    tmp_path: Path, embedder: Embedder
) -> None:
    settings = crash_settings(tmp_path / "store")
    corpus = write_corpus(tmp_path / "incoming", INGESTED, settings)
    with KnowledgeBase(settings, embedder=embedder) as kb:
        load_corpus(kb, tmp_path / "first")
    key = add_user(settings, "evaluator", "evaluator")
    # Written by the ingest process; uploads add theirs as the server answers.
    expected = dict(corpus.passages)
    tally = Tally()
    done = threading.Event()
    with serving(settings, embedder) as url:
        readers = [
            threading.Thread(target=search_until, args=(url, key, done, expected, tally, seed))
            for seed in range(READERS)
        ]
        for reader in readers:
            reader.start()
        ingest = subprocess.Popen(
            ingest_command(settings, corpus),
            env=environment(settings),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        upload_all(url, key, tmp_path, expected, tally)
        out, err = ingest.communicate()
        done.set()
        for reader in readers:
            reader.join()

    assert ingest.returncode == 0, (out, err)
    assert tally.errors == []
    assert tally.searches >= 2 * READERS
    assert {d for d in tally.checked if d.startswith("crash-")}, "no ingested document was seen"
    assert len(expected) == INGESTED + UPLOADS
    with KnowledgeBase(settings, embedder=embedder) as kb:
        assert kb.check() == []
        assert kb.missing(list(expected)) == []


@pytest.mark.slow
def test_a_second_writer_is_refused_while_the_store_is_busy(
    tmp_path: Path, embedder: Embedder
) -> None:
    assert KB.is_file(), f"the console script is not installed at {KB}"
    settings = Settings(store=tmp_path / "store", write_wait_seconds=0.3)
    folder = tmp_path / "incoming"
    folder.mkdir()
    (folder / "truce.md").write_text("# Truce\n\nA truce between fishermen of two villages.\n")
    with KnowledgeBase(settings, embedder=embedder) as kb:
        load_corpus(kb, tmp_path / "first")
    key = add_user(settings, "evaluator", "evaluator")
    # A wide console, so rich never folds the message across lines.
    env = {**environment(settings), "KB_WRITE_WAIT_SECONDS": "0.3", "COLUMNS": "1000"}
    command = [str(KB), "--store", str(settings.store), "ingest", str(folder)]

    with (
        serving(settings, embedder) as url,
        httpx.Client(base_url=url, timeout=60, headers=bearer(key)) as http,
    ):
        with WriterLock(settings.store, 0).hold():  # as a long `kb ingest` would
            refused = subprocess.run(command, env=env, capture_output=True, text=True)
            busy = http.post(
                "/documents", files={"file": ("truce.md", b"# Truce\n\nA truce.", "text/plain")}
            )
            found = http.get("/search", params={"q": "ceasefire"})
        # Released: the server's next write goes through.
        after = http.post(
            "/documents", files={"file": ("truce.md", b"# Truce\n\nA truce.", "text/plain")}
        )

    assert refused.returncode == 1
    assert f"being written by pid {os.getpid()}" in refused.stderr, refused.stderr
    assert "0 added" in refused.stderr and "1 failed" in refused.stderr
    assert busy.status_code == 503 and busy.headers["Retry-After"].isdigit()
    body = busy.json()
    assert (body["error"], body["status"]) == ("store_busy", 503)
    assert str(settings.store) in body["message"] and "try again" in body["message"]
    assert found.status_code == 200 and found.json()["results"]  # readers never wait
    assert after.status_code == 201, after.text
