"""The index that adapts to size, on the sample corpus with the real model and real FAISS: a
threshold of 100 passages (the corpus has about 220) puts it on the HNSW path."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.pipeline import ingest_paths
from kb.access import Viewer
from kb.embedding.embedder import Embedder
from kb.knowledge_base import KnowledgeBase
from kb.models import Filters, SearchRequest
from kb.settings import Settings
from kb.vectors.index import EXACT, HNSW
from kb.vectors.index_file import INDEX_NAME
from tests.conftest import EXAMPLES

QUERIES = [
    "ceasefire monitoring and verification of the separation of forces",
    "return of refugees and displaced persons to their homes",
    "disarmament demobilisation and reintegration of former combatants",
    "sharing of water resources between the parties",
    "power sharing in a transitional government",
]
BUILD_WAIT = 120.0  # seconds; a build of a few hundred vectors takes well under one


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    """The sample corpus ingested once (exact index), copied afresh by each test."""
    folder = tmp_path_factory.mktemp("sample") / "store"
    with KnowledgeBase(Settings(store=folder), embedder=embedder) as kb:
        ingest_paths(kb, [EXAMPLES])
        assert kb.stats().chunks > 150
    return folder


def open_copy(source: Path, target: Path, embedder: Embedder, **ann: object) -> KnowledgeBase:
    if not target.exists():
        shutil.copytree(source, target)
    settings = Settings(store=target, ann_threshold=100, **ann)  # type: ignore[arg-type]
    return KnowledgeBase(settings, embedder=embedder)


@pytest.fixture
def approximate(sample_store: Path, tmp_path: Path, embedder: Embedder) -> Iterator[KnowledgeBase]:
    """The sample store once its HNSW index is built and swapped in."""
    with open_copy(sample_store, tmp_path / "store", embedder) as kb:
        kb.index()
        assert kb.index_cache.wait(BUILD_WAIT)
        assert kb.index().kind == HNSW
        yield kb


def dense(
    kb: KnowledgeBase, query: str, viewer: Viewer | None = None, **filters: object
) -> list[str]:
    request = SearchRequest(query, Filters(**filters), "dense", limit=10)  # type: ignore[arg-type]
    return [r.document_id for r in kb.search(request, viewer).results]


def test_crossing_the_threshold_builds_hnsw_in_the_background_and_keeps_it(
    sample_store: Path, tmp_path: Path, embedder: Embedder, caplog: pytest.LogCaptureFixture
) -> None:
    with open_copy(sample_store, tmp_path / "store", embedder) as kb:
        assert kb.index().kind == EXACT  # the saved exact cache serves while HNSW is built
        assert kb.index_cache.wait(BUILD_WAIT)
        stats = kb.stats()
        assert (stats.index_kind, stats.index_vectors) == (HNSW, stats.chunks)
        assert kb.check() == []
        assert kb.stats(Viewer("pat", "reader", "public")).index_kind is None
    caplog.clear()
    with caplog.at_level(logging.INFO), open_copy(sample_store, tmp_path / "store", embedder) as kb:
        assert kb.index().kind == HNSW  # read back from disk, not rebuilt
        assert not kb.index_cache.building()
    assert "rebuilt" not in caplog.text and "building" not in caplog.text


def test_exact_and_approximate_agree_on_the_sample_corpus(
    sample_store: Path, approximate: KnowledgeBase, tmp_path: Path, embedder: Embedder
) -> None:
    with KnowledgeBase(Settings(store=sample_store), embedder=embedder) as exact:
        assert exact.index().kind == EXACT
        for query in QUERIES:
            assert dense(approximate, query)[:5] == dense(exact, query)[:5], query
    recall = approximate.index_recall(queries=100, k=10)
    assert (recall.kind, recall.queries) == (HNSW, 100)
    assert recall.recall >= 0.9


@pytest.mark.parametrize("exact_filter_max", [20_000, 0])
def test_filters_and_viewers_stay_exact_under_hnsw(
    sample_store: Path, tmp_path: Path, embedder: Embedder, exact_filter_max: int
) -> None:
    """Small allowed sets are searched exhaustively (the default); with that off, the graph
    search with an IDSelector still returns nothing outside the allowed set."""
    pat = Viewer("pat", "reader", "public")
    with KnowledgeBase(Settings(store=sample_store), embedder=embedder) as exact:
        shown = {d.document_id for d in exact.list_documents(Filters(), 100, viewer=pat)[1]}
        agreements = {
            d.document_id for d in exact.list_documents(Filters(doc_types=("agreement",)), 100)[1]
        }
        expected = {
            q: (dense(exact, q, pat), dense(exact, q, doc_types=("agreement",))) for q in QUERIES
        }
    assert 0 < len(shown) < 18 and 0 < len(agreements) < 18
    with open_copy(
        sample_store, tmp_path / "store", embedder, ann_exact_filter_max=exact_filter_max
    ) as kb:
        kb.index()
        assert kb.index_cache.wait(BUILD_WAIT) and kb.index().kind == HNSW
        for query in QUERIES:
            as_pat, of_type = dense(kb, query, pat), dense(kb, query, doc_types=("agreement",))
            assert set(as_pat) <= shown and set(of_type) <= agreements
            if exact_filter_max:
                # The same documents; the order of near ties may differ, as scores come from
                # the index's 8-bit codes.
                assert (set(as_pat), set(of_type)) == tuple(set(e) for e in expected[query])
                assert (as_pat[0], of_type[0]) == (expected[query][0][0], expected[query][1][0])
            else:
                assert len(as_pat) == len(expected[query][0])


def test_deleted_passages_are_masked_then_rebuilt_away(
    sample_store: Path, tmp_path: Path, embedder: Embedder
) -> None:
    with open_copy(sample_store, tmp_path / "store", embedder, ann_dead_share=0.5) as kb:
        kb.index()
        assert kb.index_cache.wait(BUILD_WAIT)
        gone = dense(kb, QUERIES[0])[0]
        masked = len(kb.chunks(gone))
        kb.delete(gone, "tester")
        index = kb.index()
        assert (index.kind, index.dead, len(index)) == (HNSW, masked, kb.stats().chunks)
        assert gone not in dense(kb, QUERIES[0]) and kb.check() == []
        kb.restore(gone, "tester")
        assert kb.index().dead == 0 and dense(kb, QUERIES[0])[0] == gone
    # Past the dead share, a background rebuild leaves an index without masked ids.
    with open_copy(sample_store, tmp_path / "store", embedder, ann_dead_share=0.01) as kb:
        kb.delete(gone, "tester")
        assert kb.index_cache.wait(BUILD_WAIT)
        index = kb.index()
        assert (index.kind, index.dead, len(index)) == (HNSW, 0, kb.stats().chunks)
        assert gone not in dense(kb, QUERIES[0]) and kb.check() == []


def test_writes_during_a_build_are_caught_up(
    sample_store: Path, tmp_path: Path, embedder: Embedder
) -> None:
    with open_copy(sample_store, tmp_path / "store", embedder) as kb:
        gone = dense(kb, QUERIES[1])[0]
        kb.delete(gone, "tester")  # the build started on open may or may not have seen this
        assert kb.index_cache.wait(BUILD_WAIT)
        assert kb.index().kind == HNSW and kb.check() == []
        assert gone not in dense(kb, QUERIES[1])


def test_a_corrupt_hnsw_cache_is_rebuilt(approximate: KnowledgeBase, embedder: Embedder) -> None:
    folder = approximate.settings.store
    expected = {q: dense(approximate, q) for q in QUERIES}
    approximate.close()
    data = bytearray((folder / INDEX_NAME).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / INDEX_NAME).write_bytes(bytes(data))
    with open_copy(folder, folder, embedder) as kb:
        assert kb.index().kind == EXACT  # rebuilt at once, exact; HNSW follows
        assert kb.index_cache.wait(BUILD_WAIT) and kb.index().kind == HNSW
        assert kb.check() == []
        for query in QUERIES:
            assert dense(kb, query)[:5] == expected[query][:5]
