"""Shared fixtures: a real store under tmp_path, one real model per session."""

from __future__ import annotations

import os
import time

# Before anything imports transformers: no code may reach a model hub.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

from collections.abc import Callable, Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from kb.embedding.backends import make_embedder  # noqa: E402
from kb.embedding.embedder import Embedder  # noqa: E402
from kb.knowledge_base import KnowledgeBase  # noqa: E402
from kb.settings import Settings  # noqa: E402
from kb.store.postgres.store import PostgresStore  # noqa: E402
from kb.store.protocol import Store  # noqa: E402
from kb.store.sqlite.store import SQLiteStore  # noqa: E402
from tests.postgres_server import TEMPLATE, PostgresServer, new_database, start_postgres  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "corpora"
EXAMPLES = ROOT / "examples" / "corpus"

# tests.tools: programs beside Python that some tests need (skip, or fail under
# KB_REQUIRE_TOOLS=1); pytester: tests/test_tools.py runs pytest on its marker.
pytest_plugins = ["tests.tools", "pytester"]


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real packaged MiniLM, loaded once for the whole run."""
    model = make_embedder(Settings())
    assert model.dimension == 384
    return model


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the run, with a migrated template database that each test's
    database is copied from (a copy takes milliseconds; migrating, a second)."""
    server = start_postgres()
    try:
        PostgresStore(server.url(TEMPLATE), server.folder / "template-cache").close()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def backend(request: pytest.FixtureRequest) -> str:
    """The store backend: SQLite, or both for tests marked `backends` (pytest_generate_tests)."""
    return str(getattr(request, "param", "sqlite"))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames and metafunc.definition.get_closest_marker("backends"):
        # Session-wide, so shared fixtures (a corpus built once for a module, or for all the
        # browser tests) come in both too.
        metafunc.parametrize("backend", ["sqlite", "postgres"], indirect=True, scope="session")


def database_for(backend: str, request: pytest.FixtureRequest) -> str | None:
    """A new, empty PostgreSQL database (its URL) when the backend is PostgreSQL; None for
    SQLite. For fixtures of any scope: the server is only started when a test needs it."""
    if backend != "postgres":
        return None
    server: PostgresServer = request.getfixturevalue("postgres")
    return new_database(server)


@pytest.fixture
def database_url(request: pytest.FixtureRequest, backend: str) -> str | None:
    """A new, empty PostgreSQL database for this test when the backend is PostgreSQL."""
    return database_for(backend, request)


@pytest.fixture
def make_store(
    request: pytest.FixtureRequest, database_url: str | None
) -> Iterator[Callable[..., Store]]:
    """Opens a store of the test's backend with its local part in `folder`; `apart=True`: in
    a database of its own (SQLite stores are apart by their folders); `clock`: its queue's
    time. Closed after the test."""
    opened: list[Store] = []

    def open_store(
        folder: Path, apart: bool = False, clock: Callable[[], float] = time.time
    ) -> Store:
        store: Store
        if database_url is None:
            store = SQLiteStore(folder, clock=clock)
        else:
            url = new_database(request.getfixturevalue("postgres")) if apart else database_url
            store = PostgresStore(url, folder, clock=clock)
        opened.append(store)
        return store

    yield open_store
    for store in opened:
        store.close()


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None) -> Settings:
    return Settings(store=tmp_path / "store", database_url=database_url)


@pytest.fixture
def kb(settings: Settings, embedder: Embedder) -> Iterator[KnowledgeBase]:
    with KnowledgeBase(settings, embedder=embedder) as base:
        yield base


def shared_corpus(name: str) -> Path:
    """A third-party corpus from ../shared, or a skip saying why it is missing."""
    path = SHARED / name
    if not path.exists():
        pytest.skip(f"needs ../shared/corpora/{name} beside the repository (absent here)")
    return path
