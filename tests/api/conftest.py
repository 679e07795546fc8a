"""Fixtures for the interface tests: the small corpus in a real store, and HTTP clients.

`client` is the test's own store (write freely); `reader` is one store per module for tests
that only read, so the corpus is embedded once rather than once per test. Every client signs
in as an admin cleared for everything (`signed_in`); tests/api/test_auth.py covers the rest.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import UVICORN_OPTIONS, create_app
from ingest.pipeline import ingest_paths
from kb.embedding.embedder import Embedder
from kb.errors import NotFoundError
from kb.knowledge_base import KnowledgeBase
from kb.settings import Settings
from kb.users import Users
from tests.api.corpus import ALL_IDS, write_corpus
from tests.conftest import database_for

ADMIN = "admin"


def add_user(settings: Settings, name: str, role: str, clearance: str = "confidential") -> str:
    """A new user of the store; returns their API key."""
    with Users(settings) as users:
        return users.add(name, role, clearance)[1]


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def signed_in(app: FastAPI, settings: Settings) -> TestClient:
    """A client of `app` carrying the key of a new admin (or of the store's admin)."""
    with Users(settings) as users:
        try:
            key = users.rotate_key(ADMIN)
        except NotFoundError:
            key = users.add(ADMIN, "admin", "confidential")[1]
    return TestClient(app, headers=bearer(key))


@contextmanager
def served(app: FastAPI) -> Iterator[tuple[str, int]]:
    """`app` served by uvicorn as `kb serve` runs it, on a free loopback port, in a thread;
    yields (host, port)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    # A failed test must not leave shutdown waiting on its half-sent request.
    config = uvicorn.Config(
        app, log_level="warning", timeout_graceful_shutdown=5, **UVICORN_OPTIONS
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]})
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                pytest.fail("the server did not start")
            time.sleep(0.01)
        yield listener.getsockname()[:2]
    finally:
        server.should_exit = True
        thread.join()
        listener.close()


def load_corpus(kb: KnowledgeBase, folder: Path) -> KnowledgeBase:
    report = ingest_paths(kb, [write_corpus(folder)])
    assert report.counts()["added"] == len(ALL_IDS), report.outcomes
    return kb


@pytest.fixture
def corpus(kb: KnowledgeBase, tmp_path: Path) -> KnowledgeBase:
    """The five sample documents ingested into the test's own store."""
    return load_corpus(kb, tmp_path / "corpus")


@pytest.fixture
def client(settings: Settings, corpus: KnowledgeBase) -> Iterator[TestClient]:
    with signed_in(create_app(settings, kb=corpus), settings) as http:
        yield http


@pytest.fixture
def bare_client(settings: Settings, kb: KnowledgeBase) -> Iterator[TestClient]:
    """An app over an empty store."""
    with signed_in(create_app(settings, kb=kb), settings) as http:
        yield http


@pytest.fixture(scope="module")
def reader(
    tmp_path_factory: pytest.TempPathFactory,
    embedder: Embedder,
    backend: str,
    request: pytest.FixtureRequest,
) -> Iterator[TestClient]:
    """The corpus behind an app shared by a module's read-only tests (on the module's backend:
    in a database of its own on PostgreSQL)."""
    root = tmp_path_factory.mktemp("reader")
    url = database_for(backend, request)
    settings = Settings(store=root / "store", database_url=url)
    with KnowledgeBase(settings, embedder=embedder) as kb:
        load_corpus(kb, root / "corpus")
        with signed_in(create_app(settings, kb=kb), settings) as http:
            yield http
