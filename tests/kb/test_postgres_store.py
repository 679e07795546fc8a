"""The PostgreSQL backend on a real PostgreSQL 18 with pgvector: what only it has to do.
Everything both backends do is tested by the modules marked `backends`, once on each."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import numpy as np
import psycopg
import pytest

from kb.access import Viewer
from kb.embedding.embedder import Embedder
from kb.errors import StoreError
from kb.knowledge_base import KnowledgeBase
from kb.models import Filters, Original, SearchRequest
from kb.settings import Settings
from kb.store.postgres.connection import redact, to_psycopg
from kb.store.postgres.dialect import tsquery_text
from kb.store.postgres.sql_schema import MIGRATIONS
from kb.store.postgres.store import PostgresStore
from kb.store.sqlite.store import SQLiteStore
from tests.drafts import passage_draft
from tests.postgres_server import PostgresServer, new_database

TEXTS = (
    "Unarmed observers monitored the ceasefire line along the northern border.",
    "Disarmament and demobilisation of combatants in Côte d'Ivoire were slow.",
    "Refugees returned to their villages and recovered their land.",
)


@pytest.fixture
def url(postgres: PostgresServer) -> str:
    return new_database(postgres)


def replica(url: str, folder: Path, embedder: Embedder, **settings: object) -> KnowledgeBase:
    """A knowledge base on the shared database with its caches in a folder of its own, as a
    server on another machine has."""
    return KnowledgeBase(Settings(store=folder, database_url=url, **settings), embedder=embedder)


def top(kb: KnowledgeBase, query: str, mode: str = "hybrid") -> list[str]:
    return [r.document_id for r in kb.search(SearchRequest(query, mode=mode)).results]


def test_statements_in_sqlite_style_become_psycopg_style() -> None:
    assert to_psycopg("SELECT a FROM t WHERE b = ? AND c = :name") == (
        "SELECT a FROM t WHERE b = %s AND c = %(name)s"
    )
    # Literals, casts and percent signs are not placeholders.
    assert to_psycopg("SELECT '?:x%', v::text, 5 % 2 FROM t WHERE d ~ '^a?$'") == (
        "SELECT '?:x%%', v::text, 5 %% 2 FROM t WHERE d ~ '^a?$'"
    )


def test_fts5_expressions_become_tsquery_texts() -> None:
    assert tsquery_text('"ceasefire" OR "observer mission"') == ("'ceasefire' | 'observer mission'")
    assert tsquery_text('("a" AND "b") OR ("a" AND "c")') == "( 'a' & 'b' ) | ( 'a' & 'c' )"
    assert tsquery_text('"it\'s"') == "'it''s'"


def test_a_write_through_one_replica_is_searchable_through_another(
    url: str, tmp_path: Path, embedder: Embedder
) -> None:
    with (
        replica(url, tmp_path / "one", embedder) as one,
        replica(url, tmp_path / "two", embedder) as two,
    ):
        one.add([passage_draft(n, text) for n, text in enumerate(TEXTS)])
        assert top(two, "ceasefire monitoring")[0] == "doc-0"  # no restart: caught up on search
        assert top(two, "combatants laying down arms", "dense")[0] == "doc-1"
        two.delete("doc-0", "tester")
        assert "doc-0" not in top(one, "ceasefire monitoring")
        assert one.check() == [] and two.check() == []


def test_an_original_kept_through_one_replica_is_read_through_another(
    url: str, tmp_path: Path, embedder: Embedder
) -> None:
    data = b"%PDF-1.4 not really, but bytes all the same"
    original = Original(hashlib.sha256(data).hexdigest(), "application/pdf", "accord.pdf")
    draft = passage_draft(0, TEXTS[0], original=original, original_bytes=data)
    with (
        replica(url, tmp_path / "one", embedder) as one,
        replica(url, tmp_path / "two", embedder) as two,
    ):
        one.add([draft])
        kept, path = two.original("doc-0")
        assert kept == original and path.read_bytes() == data
        assert path.is_relative_to(tmp_path / "two")  # the second server's own copy
        one.delete("doc-0", "tester")
        one.purge("doc-0", "tester")
        assert one.store.originals.stored() == set()  # type: ignore[attr-defined]


def test_keyword_search_in_postgresql_ranks_stems_and_folds_accents(
    url: str, tmp_path: Path, embedder: Embedder
) -> None:
    # keyword_engine=fts5 is "the store's own full-text search": here PostgreSQL's.
    with replica(url, tmp_path / "one", embedder, keyword_engine="fts5") as kb:
        assert kb.searcher.keywords is None
        kb.add([passage_draft(n, text) for n, text in enumerate(TEXTS)])
        kb.add([passage_draft(3, "A ceasefire. Another ceasefire. The ceasefire held.")])
        assert top(kb, "ceasefires", "keyword") == ["doc-3", "doc-0"]  # stemmed, ranked
        assert top(kb, "Cote d'Ivoire", "keyword") == ["doc-1"]
        assert top(kb, '"returned to their villages"', "keyword") == ["doc-2"]
        assert top(kb, '"villages returned"', "keyword") == []  # a phrase keeps its order


def test_concurrent_writers_each_get_their_own_generation(url: str, tmp_path: Path) -> None:
    stores = [PostgresStore(url, tmp_path / f"w{n}") for n in range(4)]
    generations: list[int] = []
    lock = threading.Lock()

    def write(n: int) -> None:
        for k in range(10):
            draft = passage_draft(100 * n + k, f"text {n} {k}")
            result = stores[n].write_documents([draft], [np.ones((1, 4), np.float32)])
            with lock:
                generations.append(result.generation)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(generations) == list(range(1, 41))
        assert stores[0].counts()[0] == 40
    finally:
        for store in stores:
            store.close()


def test_migrations_run_once_and_a_newer_schema_is_refused(url: str, tmp_path: Path) -> None:
    PostgresStore(url, tmp_path / "a").close()
    PostgresStore(url, tmp_path / "b").close()  # already migrated: nothing runs again
    with psycopg.connect(url, autocommit=True) as db:
        assert db.execute("SELECT count(*) FROM schema_version").fetchone() == (len(MIGRATIONS),)
        db.execute("INSERT INTO schema_version (version) VALUES (99)")
    with pytest.raises(StoreError, match="schema version 99"):
        PostgresStore(url, tmp_path / "c")


def test_an_unreachable_database_is_a_clear_error_without_the_password(tmp_path: Path) -> None:
    url = "postgresql://kb:secret@127.0.0.1:1/nowhere"
    with pytest.raises(StoreError, match="cannot connect") as error:
        PostgresStore(url, tmp_path / "x")
    assert "secret" not in error.value.message and redact(url) in error.value.message


DRAFTS = [
    passage_draft(
        0,
        TEXTS[0],
        metadata={
            "region": "West Africa",
            "stage": "ceasefire",
            "parties": ["Alpha", "Béta"],
            "year": 1998,
            "signed": True,
        },
        date="1998-04-10",
    ),
    passage_draft(
        1,
        TEXTS[1],
        metadata={"region": ["West Africa", "Sahel"], "stage": "implementation", "year": "2004"},
        date="2004-06",
        classification="restricted",
        groups=("mediators",),
    ),
    passage_draft(
        2,
        TEXTS[2],
        metadata={"region": "Great Lakes", "parties": ["Gamma"], "year": 2011.5},
        date="2011",
        doc_type="agreement",
    ),
    passage_draft(3, "A fourth document about land reform.", metadata={}, date=None),
]
FILTERS = [
    Filters(),
    Filters(equals={"region": ("west africa",)}),
    Filters(equals={"parties": ("béta", "gamma")}),
    Filters(equals={"signed": ("true",)}),
    Filters(ranges={"year": ("2000", None)}),
    Filters(ranges={"year": (None, "2004")}),
    Filters(date_from="2000", date_to="2004"),
    Filters(doc_types=("agreement",)),
    Filters(related={"evaluates": ("doc-2",)}),
    Filters(viewer=Viewer("pat", "reader", "public")),
    Filters(viewer=Viewer("rae", "reader", "restricted")),
    Filters(viewer=Viewer("meg", "reader", "restricted", ("mediators",))),
]


def test_both_backends_answer_every_filter_facet_and_count_alike(url: str, tmp_path: Path) -> None:
    lite, pg = SQLiteStore(tmp_path / "lite"), PostgresStore(url, tmp_path / "pg")
    try:
        vectors = [np.random.default_rng(n).standard_normal((1, 4), np.float32) for n in range(4)]
        for store in (lite, pg):
            store.write_documents(DRAFTS, vectors)
            store.add_relations("doc-1", [("evaluates", "doc-2")], "tester")
            store.add_relations("doc-0", [("draws-on", "doc-1")], "tester")
            store.soft_delete("doc-1", "tester")
            store.purge("doc-1", "tester")  # its marking lives on in a tombstone
        # Vectors come back bit for bit (live documents' only).
        for one, other in zip(lite.all_vectors(4), pg.all_vectors(4), strict=True):
            assert np.array_equal(one, other)
        assert np.array_equal(lite.vectors_of([1, 3])[1], pg.vectors_of([1, 3])[1])
        for filters in FILTERS:
            audits = [s.audit_entries(None, None, None, None, 100, 0, filters) for s in (lite, pg)]
            seen = [[(e.action, e.document_id) for e in entries] for _, entries in audits]
            assert audits[0][0] == audits[1][0] and seen[0] == seen[1], filters
            listed = [[d.document_id for d in s.list_documents(filters, 10, 0)] for s in (lite, pg)]
            assert listed[0] == listed[1], filters
            assert lite.visible_counts(filters) == pg.visible_counts(filters), filters
            assert sorted(lite.facet_counts(filters)) == sorted(pg.facet_counts(filters)), filters
            assert sorted(lite.metadata_values(40, filters)) == sorted(
                pg.metadata_values(40, filters)
            ), filters
            ids = [sorted(s.filtered_chunk_ids(filters).tolist()) for s in (lite, pg)]
            assert ids[0] == ids[1], filters
    finally:
        lite.close()
        pg.close()


def test_kb_check_finds_what_breaks_the_stores_invariants(
    url: str, tmp_path: Path, embedder: Embedder
) -> None:
    with replica(url, tmp_path / "one", embedder) as kb:
        kb.add([passage_draft(n, text) for n, text in enumerate(TEXTS)])
        assert kb.check() == []
        with psycopg.connect(url, autocommit=True) as db:
            db.execute("DELETE FROM vectors WHERE chunk_id = 2")
            db.execute("DELETE FROM chunks_fts WHERE rowid = 3")
        problems = kb.store.problems(embedder.dimension)
        assert problems == [
            "1 passages without a vector: 2",
            "1 passages missing from the keyword index: 3",
        ]
