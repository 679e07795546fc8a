"""`kb migrate`: an embedded store moved into PostgreSQL, every row and id, nothing lost;
real SQLite, real PostgreSQL 18 with pgvector, the real model."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from api.cli import cli
from kb.embedding.embedder import Embedder
from kb.errors import InvalidRequestError, StoreError
from kb.knowledge_base import KnowledgeBase
from kb.models import ChunkDraft, DocumentDraft, Filters, Original, SearchRequest
from kb.settings import Settings
from kb.transfer import transfer_store
from kb.users import Users
from tests.drafts import passage_draft
from tests.postgres_server import PostgresServer, new_database

TEXTS = (
    "Unarmed observers monitored the ceasefire line along the northern border.",
    "Disarmament and demobilisation of combatants were slow in the west.",
    "Refugees returned to their villages and recovered their land.",
    "Fishing rights in the shared lake were divided by season.",
    "A truth commission heard testimony from victims in every province.",
)


FILE = b"The original file of doc-2, byte for byte."
ORIGINAL = Original(hashlib.sha256(FILE).hexdigest(), "text/plain", "doc-2.txt")


@pytest.fixture
def source(tmp_path: Path, embedder: Embedder) -> tuple[Settings, str]:
    """An embedded store with a bit of everything: versions, the trash, a purge, links,
    groups, a pack and a user. Returns its settings and the user's key."""
    settings = Settings(store=tmp_path / "embedded")
    with KnowledgeBase(settings, embedder=embedder) as kb:
        kb.add([passage_draft(n, text) for n, text in enumerate(TEXTS[:4]) if n != 2])
        kb.add([passage_draft(2, TEXTS[2], original=ORIGINAL, original_bytes=FILE)])
        two = DocumentDraft(
            **{
                **passage_draft(0, TEXTS[0]).__dict__,
                "sha256": "second",
                "chunks": (
                    ChunkDraft(0, TEXTS[0], None, 1, 1, 0, 10),
                    ChunkDraft(
                        1, "Heavy weapons were withdrawn to cantonment sites.", None, 2, 2, 0, 9
                    ),
                ),
                "groups": ("mediators",),
                "classification": "restricted",
            }
        )
        kb.add([two])  # a new version of doc-0
        kb.relate("doc-1", "evaluates", "doc-0", "tester")
        kb.delete("doc-3", "tester")
        kb.add([passage_draft(4, TEXTS[4])])  # the newest passage id...
        kb.delete("doc-4", "tester")
        kb.purge("doc-4", "tester")  # ...is gone, and must never be handed out again
        pack = kb.create_pack("Ceasefires", "trainer")
        kb.add_to_pack(pack.pack_id, "doc-0", note="read first")
        kb.add_to_pack(pack.pack_id, "doc-2")
    with Users(settings) as users:
        key = users.add("amina", "reader", "restricted", ["mediators"])[1]
    return settings, key


def counts(settings: Settings) -> dict[str, int]:
    tables = (
        "documents chunks vectors document_versions audit relations document_groups users "
        "tombstones packs pack_items"
    ).split()
    if settings.database_url:
        with psycopg.connect(settings.database_url) as db:
            return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}  # type: ignore[index]
    with sqlite3.connect(settings.store / "kb.sqlite") as lite:
        return {t: lite.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


def test_everything_moves_with_its_ids_and_searches_give_the_same_documents(
    source: tuple[Settings, str], postgres: PostgresServer, tmp_path: Path, embedder: Embedder
) -> None:
    embedded, key = source
    url = new_database(postgres)
    moved = Settings(store=tmp_path / "caches", database_url=url)
    report = transfer_store(embedded.store, url, moved.store)
    assert counts(moved) == counts(embedded)
    assert report.rows["chunks"] == counts(embedded)["chunks"] == 5  # doc-4 purged
    with (
        KnowledgeBase(embedded, embedder=embedder) as before,
        KnowledgeBase(moved, embedder=embedder) as after,
    ):
        for document_id in ("doc-0", "doc-1", "doc-2"):
            assert after.get_document(document_id) == before.get_document(document_id)
            assert after.chunks(document_id) == before.chunks(document_id)
        assert after.versions("doc-0") == before.versions("doc-0")
        assert report.originals == 1 and after.original("doc-2")[1].read_bytes() == FILE
        assert after.trash() == before.trash()
        assert after.audit() == before.audit()
        assert after.relations("doc-1") == before.relations("doc-1")
        assert after.list_packs(10, 0) == before.list_packs(10, 0)
        for mode in ("keyword", "dense", "hybrid"):
            request = SearchRequest("ceasefire observers and weapons", mode=mode)
            assert [r.document_id for r in after.search(request).results] == [
                r.document_id for r in before.search(request).results
            ]
        stored = [c.chunk_id for d in ("doc-0", "doc-1", "doc-2") for c in before.chunks(d)]
        after.add([passage_draft(9, "Elections were held under international observation.")])
        # Passages 1-4 first, doc-0's new version 5 and 6, doc-4's 7 (purged): next is 8.
        assert max(stored) == 6 and after.chunks("doc-9")[0].chunk_id == 8
        assert after.store.count_documents(Filters()) == 4
    with Users(moved) as users:
        assert users.authenticate(key) is not None  # the same key signs in


def test_a_database_already_in_use_is_refused_and_a_failed_copy_keeps_nothing(
    source: tuple[Settings, str], postgres: PostgresServer, tmp_path: Path
) -> None:
    embedded, _ = source
    url = new_database(postgres)
    transfer_store(embedded.store, url, tmp_path / "caches")
    with pytest.raises(InvalidRequestError, match="already holds a store"):
        transfer_store(embedded.store, url, tmp_path / "caches")
    # A row PostgreSQL refuses (metadata that is not JSON) rolls the whole copy back.
    with sqlite3.connect(embedded.store / "kb.sqlite") as lite:
        lite.execute("UPDATE documents SET metadata = '{broken' WHERE document_id = 'doc-2'")
    empty = new_database(postgres)
    with pytest.raises(StoreError, match="nothing was kept"):
        transfer_store(embedded.store, empty, tmp_path / "caches")
    with psycopg.connect(empty) as db:
        assert db.execute("SELECT count(*) FROM documents").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM chunks").fetchone() == (0,)


def test_kb_migrate_prints_the_counts_and_the_search_comparison(
    source: tuple[Settings, str], postgres: PostgresServer, tmp_path: Path
) -> None:
    embedded, _ = source
    url = new_database(postgres)
    args = ["--store", str(tmp_path / "caches"), "migrate", "--from", str(embedded.store)]
    result = CliRunner(env={"HF_HUB_OFFLINE": "1"}).invoke(cli, [*args, "--to", url, "--json"])
    assert result.exit_code == 0, (result.output, result.exception)
    report = json.loads(result.stdout)
    assert report["rows"]["documents"] == 4 and report["rows"]["users"] == 1
    assert report["searches"] == 3 and report["same_results"] == 3, report["differences"]
    assert "postgresql://postgres@" in report["destination"]
    again = CliRunner(env={"HF_HUB_OFFLINE": "1"}).invoke(cli, [*args, "--to", url])
    assert isinstance(again.exception, InvalidRequestError)
