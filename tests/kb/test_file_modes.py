"""Everything a store writes is its owner's alone: files 0600, folders 0700, whatever the umask
of the process that writes them (the store holds confidential text, and API keys' hashes)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.pipeline import ingest_paths
from kb.backup import backup_store
from kb.embedding.embedder import Embedder
from kb.knowledge_base import KnowledgeBase
from kb.models import SearchRequest
from kb.settings import Settings
from kb.users import Users, bootstrap_admin
from tests.docs import make_pdf, write

pytestmark = pytest.mark.backends

TEXT = "The ceasefire monitors of the northern sector met the parties on the amnesty."


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The umask most systems start processes with: files 0644, folders 0755."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def not_owner_only(*roots: Path) -> dict[str, str]:
    """Every folder under `roots` (and each root) not 0700, every file not 0600."""
    loose = {}
    for root in roots:
        for path in [root, *root.rglob("*")]:
            mode = stat.S_IMODE(path.lstat().st_mode)
            if mode != (0o700 if path.is_dir() else 0o600):
                loose[str(path)] = oct(mode)
    return loose


def test_a_stores_files_are_readable_by_their_owner_only(
    loose_umask: None, settings: Settings, embedder: Embedder, tmp_path: Path
) -> None:
    """On SQLite the whole store and a backup of it; on PostgreSQL the machine's caches."""
    sqlite = settings.database_url is None
    backup = tmp_path / "backup"
    roots = [settings.store, backup] if sqlite else [settings.store]
    with KnowledgeBase(settings, embedder=embedder) as kb:
        write(tmp_path / "incoming", "accord.pdf", make_pdf([TEXT, "Page two on cantonment."]))
        assert ingest_paths(kb, [tmp_path / "incoming"]).counts()["added"] == 1
        found = kb.search(SearchRequest(query="ceasefire monitors amnesty", mode="keyword"))
        assert found.results and not found.notices  # ranked by the keyword index
        assert kb.original(found.results[0].document_id)[1].is_file()
        with Users(settings) as users:
            assert bootstrap_admin(users, settings.store) is not None
        if sqlite:
            backup_store(settings.store, backup)
        made = {p.name for p in settings.store.rglob("*")}
        # What there is to check while the store is open: the database with its write-ahead
        # log, the keyword index, the kept original, the first admin's key, the writer lock.
        assert {"keywords", "meta.json", "state.json", "originals", "admin.key"} <= made
        if sqlite:
            assert {"kb.sqlite", "kb.sqlite-wal", "kb.sqlite-shm", "writer.lock"} <= made
        assert not_owner_only(*roots) == {}
    assert {"index.faiss", "index.json"} <= {p.name for p in settings.store.iterdir()}
    if sqlite:
        assert {"kb.sqlite", "backup.json", "originals"} <= {p.name for p in backup.iterdir()}
    assert not_owner_only(*roots) == {}
