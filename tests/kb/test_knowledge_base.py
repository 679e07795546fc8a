from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

import numpy as np
import psycopg
import pytest

from kb.embedding.embedder import Embedder
from kb.errors import InvalidRequestError, ModelMismatchError, NotFoundError
from kb.knowledge_base import KnowledgeBase
from kb.models import AddOutcome, ChunkDraft, DocumentDraft, Filters, SearchRequest
from kb.settings import Settings
from kb.vectors.index_file import HEADER_NAME, INDEX_NAME

pytestmark = pytest.mark.backends

TEXTS = {
    "ceasefire": [
        "The parties agree to an immediate ceasefire along the northern line of contact.",
        "A joint monitoring commission with forty unarmed observers verifies the ceasefire.",
    ],
    "refugees": [
        "Refugees and internally displaced persons may return voluntarily to their homes.",
        "Property restitution claims are heard by a mixed commission within six months.",
    ],
    "water": [
        "The riparian states share the river's dry-season flow in fixed proportions.",
        "A basin authority publishes daily gauge readings at the Vessin weir.",
    ],
}


def draft(name: str, texts: list[str], **fields: object) -> DocumentDraft:
    chunks = tuple(
        ChunkDraft(
            ordinal=i,
            text=t,
            heading=f"Article {i + 1}",
            page_start=i + 1,
            page_end=i + 1,
            char_start=i * 200,
            char_end=i * 200 + len(t),
        )
        for i, t in enumerate(texts)
    )
    metadata = dict(fields.get("metadata", {"region": "Aurel"}))  # type: ignore[call-overload]
    return DocumentDraft(
        document_id=name,
        title=str(fields.get("title", f"The {name} document")),
        doc_type=str(fields.get("doc_type", "agreement")),
        source_name=f"{name}.md",
        sha256=str(hash(tuple(texts))),
        metadata=metadata,
        date=fields.get("date", "2001-05-01"),
        chunks=chunks,  # type: ignore[arg-type]
    )


@pytest.fixture
def filled(kb: KnowledgeBase) -> KnowledgeBase:
    kb.add(
        [
            draft(
                "ceasefire",
                TEXTS["ceasefire"],
                date="1998-03-14",
                metadata={"region": "Aurel", "parties": ["Valdoria", "AHLF"], "year": 1998},
            ),
            draft(
                "refugees",
                TEXTS["refugees"],
                doc_type="evaluation",
                date="2001-09-19",
                metadata={"region": "Aurel", "year": 2001},
            ),
            draft(
                "water",
                TEXTS["water"],
                doc_type="lessons-learned",
                date="2012-01-01",
                metadata={"region": "Serran", "year": 2012},
            ),
        ]
    )
    return kb


def ids_of(kb: KnowledgeBase, request: SearchRequest) -> list[str]:
    return [p.document_id for p in kb.search(request).results]


def test_each_mode_finds_the_right_precedent_with_its_page(filled: KnowledgeBase) -> None:
    for mode in ("hybrid", "dense", "keyword"):
        response = filled.search(SearchRequest("property restitution claims", mode=mode))
        top = response.results[0]
        assert top.document_id == "refugees", mode
        assert top.passages[0].page_start == 2
        assert "<mark>" in top.passages[0].snippet or mode == "dense"


def test_dense_search_agrees_with_a_brute_force_oracle(filled: KnowledgeBase) -> None:
    query = "observers verify that the guns stay silent"
    ids, vectors = filled.store.all_vectors(filled.dimension)
    oracle = ids[np.argmax(vectors @ filled.embedder.encode_query(query))]
    best = filled.search(SearchRequest(query, mode="dense")).results[0].passages[0]
    assert best.chunk_id == oracle


def test_the_same_content_again_is_a_no_op(filled: KnowledgeBase) -> None:
    generation = filled.store.generation()
    results = filled.add(
        [
            draft(
                "water",
                TEXTS["water"],
                doc_type="lessons-learned",
                date="2012-01-01",
                metadata={"region": "Serran", "year": 2012},
            )
        ]
    )
    assert [r.outcome for r in results] == [AddOutcome.UNCHANGED]
    assert filled.store.generation() == generation


def test_a_metadata_change_keeps_the_passages_and_is_searchable(filled: KnowledgeBase) -> None:
    before = [c.chunk_id for c in filled.chunks("water")]
    outcome = filled.add(
        [
            draft(
                "water",
                TEXTS["water"],
                doc_type="lessons-learned",
                title="Zanzibar basin lessons",
                metadata={"region": "Tamsin"},
            )
        ]
    )
    assert [r.outcome for r in outcome] == [AddOutcome.UPDATED]
    assert [c.chunk_id for c in filled.chunks("water")] == before
    assert ids_of(filled, SearchRequest("zanzibar", mode="keyword")) == ["water"]
    tamsin = Filters(equals={"region": ("tamsin",)})
    assert ids_of(filled, SearchRequest("river", filters=tamsin)) == ["water"]


def test_replacing_content_leaves_no_stale_passage(filled: KnowledgeBase) -> None:
    old = [c.chunk_id for c in filled.chunks("water")]
    new_text = ["Grazing corridors for herders cross the plateau in spring."]
    assert [r.outcome for r in filled.add([draft("water", new_text)])] == [AddOutcome.UPDATED]
    assert filled.store.chunks_by_id(old) == {}
    assert ids_of(filled, SearchRequest("gauge weir", mode="keyword")) == []
    _, faiss_ids = filled.index().search(filled.embedder.encode_queries(["gauge readings"]), 50)
    assert not set(old) & set(faiss_ids[0].tolist())
    assert len(filled.index()) == filled.stats().chunks == 5


def test_delete_removes_from_store_keyword_and_vector_search(filled: KnowledgeBase) -> None:
    old = [c.chunk_id for c in filled.chunks("refugees")]
    filled.delete("refugees")
    with pytest.raises(NotFoundError):
        filled.get_document("refugees")
    for mode in ("keyword", "dense", "hybrid"):
        assert "refugees" not in ids_of(filled, SearchRequest("refugees return home", mode=mode))
    assert not set(old) & set(filled.store.all_vectors(filled.dimension)[0].tolist())
    assert filled.stats().documents == 2 and len(filled.index()) == 4
    with pytest.raises(NotFoundError):
        filled.delete("refugees")


def test_a_failed_write_changes_nothing(filled: KnowledgeBase) -> None:
    stats = filled.stats()
    broken = draft("broken", ["One passage.", "Another passage."])
    twin = ChunkDraft(0, "Same ordinal twice.", None, 1, 1, 0, 10)
    broken = DocumentDraft(**{**broken.__dict__, "chunks": (broken.chunks[0], twin)})
    with pytest.raises((sqlite3.IntegrityError, psycopg.IntegrityError)):
        filled.add([draft("fine", ["A fine passage about elections."]), broken])
    assert filled.stats() == stats
    assert filled.missing(["fine", "broken"]) == ["fine", "broken"]


@pytest.mark.parametrize("damage", ["delete", "corrupt", "stale"])
def test_a_missing_corrupt_or_stale_index_is_rebuilt(
    filled: KnowledgeBase,
    settings: Settings,
    embedder: Embedder,
    damage: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    expected = ids_of(filled, SearchRequest("ceasefire observers", mode="dense"))
    filled.close()
    index_file = settings.store / INDEX_NAME
    if damage == "delete":
        index_file.unlink()
    elif damage == "corrupt":
        index_file.write_bytes(b"\x00garbage" * 100)
    else:
        header = settings.store / HEADER_NAME
        header.write_text(header.read_text().replace('"generation": ', '"generation": 9'))
    caplog.set_level(logging.INFO)
    with KnowledgeBase(settings, embedder=embedder) as reopened:
        assert ids_of(reopened, SearchRequest("ceasefire observers", mode="dense")) == expected
        assert len(reopened.index()) == 6
    assert "rebuilt the FAISS index from 6 stored vectors" in caplog.text
    with KnowledgeBase(settings, embedder=embedder) as again:  # the rebuilt file is trusted now
        caplog.clear()
        again.index()
        assert "rebuilt" not in caplog.text


def test_another_writer_is_seen_without_a_restart(
    filled: KnowledgeBase, settings: Settings, embedder: Embedder
) -> None:
    filled.search(SearchRequest("river"))  # the first instance has its index in memory
    with KnowledgeBase(settings, embedder=embedder) as other:
        other.add([draft("elections", ["Out-of-district polling stations for displaced voters."])])
    assert (
        ids_of(filled, SearchRequest("polling stations for displaced voters", mode="dense"))[0]
        == "elections"
    )


def test_a_store_built_with_another_model_is_refused(
    filled: KnowledgeBase, settings: Settings, embedder: Embedder, tmp_path: Path
) -> None:
    filled.close()
    other_model = tmp_path / "other-model"
    source = Path(embedder._folder)
    for item in source.iterdir():  # same weights, another folder: another model setting
        (other_model / item.name).parent.mkdir(parents=True, exist_ok=True)
        (other_model / item.name).symlink_to(item)
    other = settings.model_copy(update={"model": str(other_model)})
    with pytest.raises(ModelMismatchError) as error:
        KnowledgeBase(other)
    assert "all-MiniLM-L6-v2" in error.value.message and str(other_model) in error.value.message
    assert "kb reindex" in error.value.message
    with KnowledgeBase(other, allow_model_change=True) as base:
        stats = base.reindex()
    assert stats.model == base.embedder.name and stats.index_vectors == 6
    assert stats.model.startswith(str(other_model))
    with KnowledgeBase(other) as base:
        assert ids_of(base, SearchRequest("basin authority gauge"))[0] == "water"


def test_filters_apply_to_every_mode(filled: KnowledgeBase) -> None:
    cases = [
        (Filters(doc_types=("evaluation",)), ["refugees"]),
        (Filters(equals={"parties": ("ahlf",)}), ["ceasefire"]),
        (Filters(equals={"region": ("serran", "aurel")}), ["ceasefire", "refugees", "water"]),
        (Filters(ranges={"year": ("1999", "2012")}), ["refugees", "water"]),
        (Filters(date_from="1999", date_to="2001"), ["refugees"]),
        (Filters(equals={"region": ("nowhere",)}), []),
    ]
    for filters, expected in cases:
        for mode in ("hybrid", "dense", "keyword"):
            found = ids_of(
                filled, SearchRequest("agreement commission river return", filters, mode)
            )
            assert sorted(found) == expected, (filters, mode)
        total, documents = filled.list_documents(filters)
        assert total == len(expected) and sorted(d.document_id for d in documents) == expected


def test_paging_is_consistent(filled: KnowledgeBase) -> None:
    whole = ids_of(filled, SearchRequest("commission", limit=3))
    pages = ids_of(filled, SearchRequest("commission", limit=2)) + ids_of(
        filled, SearchRequest("commission", limit=2, offset=2)
    )
    assert pages == whole


def test_a_long_brief_is_embedded_in_pieces(filled: KnowledgeBase) -> None:
    brief = " ".join(["Armed groups in the north keep violating the truce."] * 40)
    brief += " Displaced families want to return and reclaim their property."
    response = filled.search(SearchRequest(brief, mode="dense"))
    assert response.notices and "pieces" in response.notices[0]
    assert {"ceasefire", "refugees"} <= {p.document_id for p in response.results[:2]}


def test_more_like_this_excludes_the_document_itself(filled: KnowledgeBase) -> None:
    filled.add(
        [draft("truce", ["Observers verify the truce and report violations of the ceasefire."])]
    )
    similar = filled.similar("ceasefire", Filters())
    assert similar.results[0].document_id == "truce"
    assert "ceasefire" not in [p.document_id for p in similar.results]
    with pytest.raises(NotFoundError):
        filled.similar("nope", Filters())


def test_stats_count_current_documents(filled: KnowledgeBase) -> None:
    stats = filled.stats()
    assert (stats.documents, stats.chunks, stats.model, stats.dimension) == (
        3,
        6,
        filled.embedder.name,
        384,
    )
    assert stats.model.startswith("all-MiniLM-L6-v2")
    assert stats.doc_types == {"agreement": 1, "evaluation": 1, "lessons-learned": 1}


def test_each_precedent_says_which_terms_and_metadata_matched(filled: KnowledgeBase) -> None:
    response = filled.search(SearchRequest("property restitution in Aurel since 2000"))
    top = response.results[0]
    assert top.document_id == "refugees"
    assert set(top.matched_terms) >= {"property", "restitution"}
    assert "since" not in top.matched_terms
    assert {(s.key, s.value) for s in top.matched_metadata} == {
        ("region", "Aurel"),
        ("year_min", "2000"),
    }
    ceasefire = next(p for p in response.results if p.document_id == "ceasefire")
    assert ("year_min", "2000") not in {(s.key, s.value) for s in ceasefire.matched_metadata}


def test_a_brief_finds_a_precedent_for_each_aspect_and_says_which(filled: KnowledgeBase) -> None:
    brief = (
        "Shelling along the northern line of contact has stopped and both armies now ask for "
        "unarmed observers to verify the truce. Tens of thousands of displaced families want "
        "to go back and reclaim houses and land taken from them during the war. The two "
        "countries upstream and downstream also quarrel over how to share the river in the "
        "dry season."
    )
    response = filled.search(SearchRequest(brief))
    assert any("aspects" in notice for notice in response.notices)
    by_id = {p.document_id: p for p in response.results}
    assert {"ceasefire", "refugees", "water"} <= set(by_id)
    assert any("observers" in a for a in by_id["ceasefire"].aspects)
    assert any("displaced families" in a for a in by_id["refugees"].aspects)
    assert any("river" in a for a in by_id["water"].aspects)


def test_a_configured_cross_encoder_reorders_the_head(
    filled: KnowledgeBase, settings: Settings, embedder: Embedder
) -> None:
    # No trained cross-encoder ships in a package, so the packaged MiniLM stands in with an
    # untrained scoring head: the order must follow its scores, whatever they are.
    filled.close()
    reranked = Settings(store=settings.store, reranker=str(embedder._folder), diversity=0.0)
    with KnowledgeBase(reranked, embedder=embedder) as base:
        query = "commission"
        results = base.search(SearchRequest(query)).results
        reranker = base.searcher.reranker
        assert reranker is not None
        oracle = reranker.score(query, [p.passages[0].text for p in results])
        ranked = sorted(zip(oracle, results, strict=True), key=lambda pair: -pair[0])
        expected = [p.document_id for _, p in ranked]
        assert [p.document_id for p in results] == expected
        scores = [p.score for p in results]
        assert scores == sorted(scores, reverse=True)


def test_a_reranker_that_is_not_a_model_folder_is_refused(
    settings: Settings, tmp_path: Path
) -> None:
    with pytest.raises(InvalidRequestError, match="not a local cross-encoder folder"):
        KnowledgeBase(Settings(store=settings.store, reranker=str(tmp_path)))


def test_searches_in_threads_while_documents_are_added_and_deleted(filled: KnowledgeBase) -> None:
    errors: list[BaseException] = []
    done = threading.Event()

    def search_until_done() -> None:
        while not done.is_set():
            try:
                filled.search(SearchRequest("ceasefire commission river", limit=5))
            except BaseException as exc:  # noqa: BLE001 - the test reports whatever broke
                errors.append(exc)
                return

    readers = [threading.Thread(target=search_until_done) for _ in range(3)]
    for reader in readers:
        reader.start()
    try:
        for n in range(8):
            filled.add([draft(f"extra-{n}", [f"Extra passage {n} about a ceasefire commission."])])
            if n % 2:
                filled.delete(f"extra-{n - 1}")
    finally:
        done.set()
        for reader in readers:
            reader.join()
    assert errors == []
    assert len(filled.index()) == filled.stats().chunks == 6 + 4
