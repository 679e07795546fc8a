"""Evaluators' changes in the core: the trash, versions, duplicates, the audit log, relations,
each checked against SQLite, FTS5 and FAISS together."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest

from ingest.chunking import Page, chunk_pages
from kb.errors import InvalidRequestError, NotFoundError
from kb.knowledge_base import KnowledgeBase
from kb.models import AddOutcome, Filters, SearchRequest
from kb.settings import Settings
from tests.conftest import EXAMPLES
from tests.kb.test_knowledge_base import TEXTS, draft

pytestmark = pytest.mark.backends

REPORT = EXAMPLES / "tamsin-plateau-mediation-evaluation-2004.md"


@pytest.fixture
def three(kb: KnowledgeBase) -> KnowledgeBase:
    kb.add([draft(name, TEXTS[name]) for name in ("ceasefire", "refugees", "water")], "tester")
    return kb


def hits(kb: KnowledgeBase, query: str, mode: str = "hybrid", **filters: object) -> list[str]:
    request = SearchRequest(query, Filters(**filters), mode, limit=10)  # type: ignore[arg-type]
    return [r.document_id for r in kb.search(request).results]


def rows(kb: KnowledgeBase, query: str) -> list[tuple[object, ...]]:
    """The rows of a query, read past the store, from its SQLite file or its PostgreSQL."""
    if kb.settings.database_url:
        with psycopg.connect(kb.settings.database_url, autocommit=True) as db:
            return [tuple(row) for row in db.execute(query.encode()).fetchall()]
    with sqlite3.connect(kb.settings.store / "kb.sqlite") as db:
        return db.execute(query).fetchall()


def test_delete_hides_a_document_from_every_read_and_restore_brings_it_back(
    three: KnowledgeBase,
) -> None:
    chunk_ids = [c.chunk_id for c in three.chunks("water")]
    three.delete("water", "tester")

    for mode in ("keyword", "dense", "hybrid"):
        assert "water" not in hits(three, "riparian river flow Vessin weir", mode)
    assert not set(chunk_ids) & set(three.index().ids().tolist())
    with pytest.raises(NotFoundError, match="in the trash"):
        three.get_document("water")
    total, listed = three.list_documents(Filters())
    assert total == 2 and "water" not in [d.document_id for d in listed]
    assert three.stats().documents == 2 and three.stats().chunks == 4
    assert [d.document_id for d in three.trash()[1]] == ["water"]
    assert three.check() == []  # the index holds exactly the live documents' passages

    three.restore("water", "tester")

    assert hits(three, "riparian river flow Vessin weir", "dense")[0] == "water"
    assert hits(three, "Vessin", "keyword") == ["water"]
    assert set(chunk_ids) <= set(three.index().ids().tolist())
    assert three.trash() == (0, [])


def test_the_index_rebuilt_from_the_store_leaves_out_the_trash(
    three: KnowledgeBase, settings: Settings
) -> None:
    three.delete("water", "tester")
    three.reindex()
    assert len(three.index()) == three.stats().chunks == 4
    with KnowledgeBase(settings, embedder=three.embedder) as other:
        assert "water" not in hits(other, "riparian river flow Vessin weir", "dense")


def test_purge_removes_the_text_from_sqlite_fts_and_faiss(three: KnowledgeBase) -> None:
    three.add([draft("water", ["A new text about the Vessin weir and its gauges."])], "tester")
    three.delete("water", "tester")
    with pytest.raises(NotFoundError, match="no document 'refugees' in the trash"):
        three.purge("refugees", "tester")

    three.purge("water", "tester")

    assert rows(three, "SELECT * FROM documents WHERE document_id = 'water'") == []
    assert rows(three, "SELECT * FROM chunks WHERE document_id = 'water'") == []
    assert rows(three, "SELECT * FROM document_versions WHERE document_id = 'water'") == []
    keyword = (
        "SELECT rowid FROM chunks_fts WHERE tsv @@ to_tsquery('kb_english', 'Vessin')"
        if three.settings.database_url
        else "SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH 'Vessin'"
    )
    assert rows(three, keyword) == []
    assert rows(three, "SELECT count(*) FROM vectors") == [(4,)]
    assert len(three.index()) == 4
    assert three.check() == []
    actions = [e.action for e in three.audit(document_id="water")[1]]
    assert actions == ["purge", "delete", "replace", "add"]


def test_purge_expired_takes_only_what_is_past_retention(
    three: KnowledgeBase, settings: Settings
) -> None:
    three.delete("water", "tester")
    three.delete("refugees", "tester")
    assert three.purge_expired() == []  # 30 days by default
    rows(
        three,
        "UPDATE documents SET deleted_at = '2020-01-01T00:00:00+00:00' "
        "WHERE document_id = 'water' RETURNING document_id",
    )

    assert three.purge_expired("retention") == ["water"]

    assert [d.document_id for d in three.trash()[1]] == ["refugees"]
    assert three.audit(action="purge")[1][0].actor == "retention"


def test_a_new_version_keeps_the_old_one_as_history_and_search_sees_only_the_new(
    three: KnowledgeBase,
) -> None:
    old_text = TEXTS["water"]
    three.add([draft("water", ["Glacier melt now feeds a reservoir shared by three towns."])])

    versions = three.versions("water")
    assert [(v.version, v.replaced_at is None) for v in versions] == [(2, True), (1, False)]
    earlier, passages = three.version("water", 1)
    assert [p["text"] for p in passages] == old_text
    assert earlier.sha256 == str(hash(tuple(old_text)))
    assert hits(three, "Vessin", "keyword") == []
    assert hits(three, "glacier reservoir", "keyword") == ["water"]
    assert three.get_document("water").version == 2
    with pytest.raises(NotFoundError):
        three.version("water", 7)


def test_the_same_content_under_another_id_is_a_duplicate_not_added(
    three: KnowledgeBase,
) -> None:
    again = draft("water-copy", TEXTS["water"])
    twins = [draft("twin-a", ["One text sent twice."]), draft("twin-b", ["One text sent twice."])]

    results = three.add([again, *twins])

    assert [(r.outcome, r.duplicate_of) for r in results] == [
        (AddOutcome.DUPLICATE, "water"),
        (AddOutcome.ADDED, None),
        (AddOutcome.DUPLICATE, "twin-a"),
    ]
    assert three.missing(["water-copy", "twin-b"]) == ["water-copy", "twin-b"]


def test_nearly_the_same_text_is_flagged_but_added(three: KnowledgeBase) -> None:
    text = REPORT.read_text()
    # The same report laid out anew: cut into other passages, with a footer on each page.
    pages = [Page(1, text[: len(text) // 2] + "\n\nPage 1"), Page(2, text[len(text) // 2 :])]
    original = [c.text for c in chunk_pages([Page(1, text)], 150, 25)]
    relaid = [c.text for c in chunk_pages(pages, 60, 0)]
    three.add([draft("report", original)])

    result = three.add([draft("report-relaid", relaid)])[0]

    assert result.outcome is AddOutcome.ADDED
    assert result.near_duplicates == ("report",)
    assert three.near_duplicates("report") == ["report-relaid"]
    assert three.near_duplicates("water") == []


def test_an_edit_changes_fields_without_reembedding_and_filters_see_it_at_once(
    three: KnowledgeBase,
) -> None:
    chunks = three.chunks("water")
    generation = three.store.generation()

    edited = three.edit(
        "water",
        {"title": "Serran Basin Accord", "metadata": {"region": "Serran", "stage": "framework"}},
        "editor",
    )

    assert edited.title == "Serran Basin Accord"
    assert edited.metadata == {"region": "Serran", "stage": "framework"}
    assert three.chunks("water") == chunks
    assert hits(three, "Serran Basin Accord", "keyword")[0] == "water"
    assert hits(three, "river", equals={"stage": ("framework",)}) == ["water"]
    assert three.store.generation() == generation + 1
    three.edit("water", {"metadata": {"stage": None}}, "editor")
    assert three.get_document("water").metadata == {"region": "Serran"}
    entry = three.audit(document_id="water", action="edit")[1][-1]
    assert entry.actor == "editor"
    assert entry.before == {"title": "The water document", "metadata": {"region": "Aurel"}}
    assert entry.after == {
        "title": "Serran Basin Accord",
        "metadata": {"region": "Serran", "stage": "framework"},
    }
    with pytest.raises(InvalidRequestError, match="cannot edit sha256"):
        three.edit("water", {"sha256": "x"}, "editor")


def test_every_change_is_audited_with_who_and_what(three: KnowledgeBase) -> None:
    three.relate("refugees", "evaluates", "ceasefire", "alice")
    three.delete("water", "bob")
    three.restore("water", "carol")

    total, entries = three.audit()
    assert total == 6
    assert [(e.action, e.actor, e.document_id) for e in entries] == [
        ("restore", "carol", "water"),
        ("delete", "bob", "water"),
        ("relate", "alice", "refugees"),
        ("add", "tester", "water"),
        ("add", "tester", "refugees"),
        ("add", "tester", "ceasefire"),
    ]
    assert entries[2].after == {"relation": "evaluates", "target": "ceasefire"}
    assert entries[3].after is not None and entries[3].after["title"] == "The water document"
    assert three.audit(actor="bob")[0] == 1
    assert three.audit(limit=2, offset=1)[1] == entries[1:3]


def test_relations_show_on_both_ends_and_filter_search(three: KnowledgeBase) -> None:
    three.relate("refugees", "evaluates", "ceasefire", "tester")
    three.relate("water", "draws-on", "refugees", "tester")
    three.relate("water", "draws-on", "refugees", "tester")  # twice is once

    assert [(r.label, r.document_id) for r in three.relations("ceasefire")] == [
        ("evaluated-by", "refugees")
    ]
    assert [(r.direction, r.label, r.document_id) for r in three.relations("refugees")] == [
        ("incoming", "drawn-on-by", "water"),
        ("outgoing", "evaluates", "ceasefire"),
    ]
    query = "commission"
    assert hits(three, query, related={"evaluates": ("ceasefire",)}) == ["refugees"]
    assert hits(three, query, related={"evaluated-by": ("refugees",)}) == ["ceasefire"]
    assert sorted(hits(three, "river refugees", related={"related_to": ("refugees",)})) == [
        "ceasefire",
        "water",
    ]
    total, listed = three.list_documents(Filters(related={"drawn-on-by": ("water",)}))
    assert (total, [d.document_id for d in listed]) == (1, ["refugees"])

    three.delete("ceasefire", "tester")
    assert [r.document_id for r in three.relations("refugees")] == ["water"]
    three.unrelate("water", "draws-on", "refugees", "tester")
    assert three.relations("water") == []
    with pytest.raises(NotFoundError):
        three.unrelate("water", "draws-on", "refugees", "tester")


@pytest.mark.parametrize(
    ("source", "relation", "target", "error"),
    [
        ("water", "invents", "refugees", "unknown relation 'invents'"),
        ("water", "evaluates", "water", "cannot be linked to itself"),
        ("water", "evaluates", "nowhere", "no document 'nowhere'"),
    ],
)
def test_bad_links_are_refused(
    three: KnowledgeBase, source: str, relation: str, target: str, error: str
) -> None:
    with pytest.raises((InvalidRequestError, NotFoundError), match=error):
        three.relate(source, relation, target, "tester")
    assert three.relations("water") == []
