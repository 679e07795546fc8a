"""The tantivy keyword index cache on a real store: it follows every kind of write, whoever
makes it, is rebuilt when it cannot be trusted, and gives way to FTS5 while it is not current."""

from __future__ import annotations

import dataclasses
import logging
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import tantivy

from kb.access import Viewer
from kb.embedding.embedder import Embedder
from kb.keywords.index import KeywordIndex
from kb.keywords.parts import FOLDER, Parts, part_name
from kb.keywords.query import parse_query
from kb.knowledge_base import KnowledgeBase
from kb.models import Filters, SearchRequest
from kb.settings import Settings
from kb.store.allowed import Allowed
from kb.store.sqlite.store import SQLiteStore
from tests.drafts import passage_draft

pytestmark = pytest.mark.backends

TEXTS = (
    "ceasefire monitoring along the northern border",
    "refugee return and land restitution",
    "monitoring of elections by regional observers",
    "a truth commission heard testimony on the ceasefire",
)


def write(store: SQLiteStore, *numbered: tuple[int, str], **fields: object) -> None:
    drafts = [passage_draft(n, text, **fields) for n, text in numbered]
    # Keyword search reads no vectors: one-dimensional zeros keep these tests free of the model.
    store.write_documents(drafts, [np.zeros((1, 1), np.float32) for _ in drafts])


@pytest.fixture
def store(tmp_path: Path, make_store: Callable[..., SQLiteStore]) -> SQLiteStore:
    folder = make_store(tmp_path / "store")
    write(folder, *enumerate(TEXTS))
    return folder


def part(store_folder: Path) -> Path:
    """The folder of the index part holding the tests' passages (all public)."""
    return store_folder / FOLDER / part_name((0, ()))


def keywords(
    store: SQLiteStore, stamp: str = "", within_most: int = 20_000, sync_rows: int = 20_000
) -> KeywordIndex:
    settings = Settings(store=store.folder, keyword_sync_rows=sync_rows)
    return KeywordIndex(store, settings, lambda: stamp, within_most)


def found(index: KeywordIndex, text: str, allowed: Allowed | None = None) -> list[str]:
    hits = index.search(parse_query(text), 10, allowed)
    assert hits is not None, "the index should be current"
    owners = index._store.chunk_owners([c for c, _ in hits])
    return [owners[c] for c, _ in hits]


def test_ranks_by_bm25_and_quoted_words_are_a_phrase(store: SQLiteStore, tmp_path: Path) -> None:
    index = keywords(store)
    ranked = found(index, "ceasefire monitoring")
    assert ranked[0] == "doc-0" and sorted(ranked[1:]) == ["doc-2", "doc-3"]  # both words first
    assert found(index, '"ceasefire monitoring"') == ["doc-0"]
    assert sorted(found(index, "monitored")) == ["doc-0", "doc-2"]  # stemmed as the text was
    assert found(index, "nothing matches zzzz") == []
    write(store, (4, "talks in Côte d'Ivoire and São Tomé"))
    assert found(index, "Cote d'Ivoire") == found(index, "côte") == ["doc-4"]  # accents folded
    assert found(index, '"sao tome"') == ["doc-4"]
    # Words tantivy's query parser refused ("only excluding terms"): no user text is syntax.
    assert found(index, '"⁈ᇨእቚᨄǩ⒖ଶƦʺ" ⁈ᇨእቚᨄǩ⒖ଶƦʺ') == []


def test_follows_additions_new_versions_title_edits_and_purges(
    store: SQLiteStore, tmp_path: Path
) -> None:
    index = keywords(store)
    assert found(index, "cantonment") == []
    write(store, (4, "cantonment sites for combatants"))
    assert found(index, "cantonment") == ["doc-4"]

    write(store, (1, "refugee return with transitional shelter"))  # a new version of doc-1
    assert found(index, "restitution") == []
    assert found(index, "shelter") == ["doc-1"]  # its passage, under a new id

    renamed = dataclasses.replace(passage_draft(2, TEXTS[2]), title="Mindanao observers")
    store.update_document_fields(renamed)
    assert found(index, "mindanao") == ["doc-2"]

    store.soft_delete("doc-0", "tester")  # the trash: held by neither index, until restored
    assert found(index, "northern") == []
    store.restore("doc-0", "tester")
    assert found(index, "northern") == ["doc-0"]
    store.soft_delete("doc-0", "tester")
    store.purge("doc-0", "tester")
    assert found(index, "northern") == []
    assert index.search(parse_query("northern"), 10, None) == []


def test_another_process_catches_up_the_saved_index_without_rebuilding(
    store: SQLiteStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="kb.keywords.index")
    assert found(keywords(store), "ceasefire")
    write(store, (4, "ceasefire in the highlands"))
    later = keywords(store)  # a new process: the files on disk, one write behind
    assert found(later, "highlands") == ["doc-4"]
    assert sum("built the keyword index" in r.message for r in caplog.records) == 1


def test_an_index_of_another_state_is_rebuilt(
    store: SQLiteStore,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    make_store: Callable[..., SQLiteStore],
) -> None:
    caplog.set_level(logging.INFO, logger="kb.keywords.index")
    assert found(keywords(store, stamp="before"), "ceasefire")
    # A restore from backup gives the store another stamp: the log may not be the one read.
    assert found(keywords(store, stamp="after"), "ceasefire") == ["doc-0", "doc-3"]
    assert sum("built the keyword index" in r.message for r in caplog.records) == 2
    # An index ahead of its store's log (the files of another, bigger store) is not trusted.
    smaller = make_store(tmp_path / "smaller", apart=True)
    write(smaller, (0, "a ceasefire in the south"))
    shutil.copytree(tmp_path / "store" / FOLDER, tmp_path / "smaller" / FOLDER)
    assert found(keywords(smaller, stamp="after"), "ceasefire") == ["doc-0"]
    assert found(keywords(smaller, stamp="after"), "testimony") == []


def test_a_damaged_index_gives_way_to_fts5_and_is_rebuilt(
    store: SQLiteStore, tmp_path: Path
) -> None:
    assert found(keywords(store), "ceasefire")
    (part(tmp_path / "store") / "meta.json").write_text("{ not json")
    index = keywords(store)
    first = index.search(parse_query("ceasefire"), 10, None)
    if first is None:  # damage seen on opening: FTS5 served, a rebuild runs in the background
        assert index.wait(60)
    assert found(index, "ceasefire") == ["doc-0", "doc-3"]


def test_a_long_lag_is_caught_up_in_the_background(store: SQLiteStore, tmp_path: Path) -> None:
    index = keywords(store, sync_rows=2)
    assert index.search(parse_query("ceasefire"), 10, None) is None  # 4 passages > 2: FTS5
    assert index.wait(60)
    assert found(index, "ceasefire") == ["doc-0", "doc-3"]
    write(store, (4, "ceasefire lines redrawn"), (5, "a ceasefire commission"))
    assert {"doc-4", "doc-5"} <= set(found(index, "ceasefire"))  # two behind: caught up in it
    write(store, *[(n, f"ceasefire text {n}") for n in range(6, 9)])
    assert index.search(parse_query("ceasefire"), 10, None) is None  # three behind
    assert index.wait(60)
    assert len(found(index, "ceasefire")) == 7


def test_a_writer_in_another_process_leaves_the_search_to_fts5(
    store: SQLiteStore, tmp_path: Path
) -> None:
    index = keywords(store)
    assert found(index, "ceasefire")
    write(store, (4, "ceasefire again"))
    other = tantivy.Index.open(str(part(tmp_path / "store"))).writer(15_000_000, 1)
    assert index.search(parse_query("ceasefire"), 10, None) is None  # busy: no waiting
    other.rollback()
    del other  # lets go of tantivy's writer lock
    assert "doc-4" in found(index, "ceasefire")


@pytest.mark.parametrize("within_most", [20_000, 5])
def test_a_filtered_search_returns_allowed_passages_only(
    store: SQLiteStore, within_most: int
) -> None:
    # Up to `within_most` allowed passages are searched within; a larger set is kept from
    # the best matches, fetched in proportion to its share of the store.
    write(store, *[(n, f"ceasefire report {n}") for n in range(4, 40)])
    index = keywords(store, within_most=within_most)
    every = found(index, "ceasefire")
    allowed_ids = list(range(2, 41, 2))  # every other passage: 20 of 40
    hits = index.search(parse_query("ceasefire"), 10, Allowed.of(np.array(allowed_ids), "k"))
    assert hits is not None
    assert all(c in allowed_ids for c, _ in hits) and len(hits) == 10
    best = index.search(parse_query("ceasefire"), 40, None)
    assert best is not None
    assert [c for c, _ in hits] == [c for c, _ in best if c in allowed_ids][:10]
    assert every  # unfiltered, the same index answers


def test_reindex_rebuilds_it_and_hybrid_search_uses_it(
    tmp_path: Path, embedder: Embedder, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="kb.keywords.index")
    with KnowledgeBase(Settings(store=tmp_path / "kb"), embedder=embedder) as kb:
        kb.add([passage_draft(n, text) for n, text in enumerate(TEXTS)])
        found = kb.search(SearchRequest(query="restitution", mode="keyword"))
        assert [r.document_id for r in found.results] == ["doc-1"]
        kb.reindex()
        assert sum("built the keyword index" in r.message for r in caplog.records) == 2
        found = kb.search(SearchRequest(query="testimony ceasefire", mode="hybrid"))
        assert found.results[0].document_id == "doc-3"


BUILD = """
import sys
from pathlib import Path
from kb.keywords.index import KeywordIndex
from kb.settings import Settings
from kb.store.backends import open_store

settings = Settings(store=Path(sys.argv[1]), database_url=sys.argv[2] or None)
KeywordIndex(open_store(settings), settings, lambda: "").prepare()
"""


def test_a_build_killed_midway_leaves_an_index_that_is_rebuilt_or_whole(
    store: SQLiteStore, tmp_path: Path
) -> None:
    write(store, *[(n, f"ceasefire report {n} " + "text " * 200) for n in range(4, 6000)])
    folder = part(tmp_path / "store")
    url = getattr(store, "url", "")
    builder = subprocess.Popen([sys.executable, "-c", BUILD, str(tmp_path / "store"), url])
    deadline = time.monotonic() + 60
    while not any(folder.glob("*.store")) and time.monotonic() < deadline:
        time.sleep(0.005)  # segment files appear once tantivy starts writing
    builder.send_signal(signal.SIGKILL)
    builder.wait()
    index = keywords(store)  # the kernel let go of tantivy's lock with the process
    if index.search(parse_query("ceasefire"), 10, None) is None:
        assert index.wait(120)
    hits = index.search(parse_query("ceasefire"), 10_000, None)
    assert hits is not None and len(hits) == 5998  # doc-0, doc-3 and every report


def test_a_command_brings_the_index_up_to_its_writes_before_it_exits(
    settings: Settings, embedder: Embedder, make_store: Callable[..., SQLiteStore]
) -> None:
    with KnowledgeBase(settings, embedder=embedder) as kb:
        kb.add([passage_draft(n, text) for n, text in enumerate(TEXTS)])
        assert kb.update_keyword_index()  # as `kb ingest` does at its end
    store = make_store(settings.store)
    later = keywords(store, sync_rows=0)  # no catching up allowed: current, or FTS5
    assert found(later, "restitution") == ["doc-1"]
    # Held by another process's writer, it is left to whoever searches next.
    other = tantivy.Index.open(str(part(settings.store))).writer(15_000_000, 1)
    write(store, (9, "restitution of land"))
    assert later.prepare() is False
    other.rollback()
    del other
    assert later.prepare() is True
    assert sorted(found(later, "restitution")) == ["doc-1", "doc-9"]


def test_while_the_index_is_not_current_a_reader_who_may_not_see_all_gets_no_fts5_ranking(
    settings: Settings, embedder: Embedder
) -> None:
    with KnowledgeBase(settings, embedder=embedder) as kb:
        kb.add([passage_draft(n, text) for n, text in enumerate(TEXTS)])
        kb.add([passage_draft(9, "ceasefire notes of the envoy", classification="confidential")])
        assert kb.update_keyword_index()
        # Another process holds the part's writer: the next write cannot be caught up.
        other = tantivy.Index.open(str(part(settings.store))).writer(15_000_000, 1)
        kb.add([passage_draft(5, "a ceasefire in the delta")])
        reader = Viewer("pia", "reader", "public")

        def ask(viewer: Viewer | None) -> tuple[list[str], tuple[str, ...]]:
            request = SearchRequest("ceasefire", Filters(viewer=viewer), mode="keyword")
            answer = kb.search(request)
            return [r.document_id for r in answer.results], answer.notices

        everything, notices = ask(None)  # FTS5 counts what this caller may see: everything
        assert "doc-9" in everything and not notices
        hidden, notices = ask(reader)
        assert hidden == [] and "keyword matching is left out" in notices[0]
        other.rollback()
        del other
        shown, notices = ask(reader)
        assert set(shown) == {"doc-0", "doc-3", "doc-5"} and not notices


def test_an_edit_that_keeps_the_marking_logs_nothing_for_the_keyword_index(
    store: SQLiteStore,
) -> None:
    write(store, (7, "a report of the west team"), groups=("west", "north"))
    index = keywords(store)
    assert found(index, "west") == ["doc-7"]
    _, end = store.keyword_log_span()
    same = dataclasses.replace(
        passage_draft(7, "x"), title="Report seven", groups=("north", "west")
    )
    store.update_document_fields(same)  # a new title: its passage is logged, once
    assert store.keyword_log_span()[1] == end + 1
    store.update_document_fields(same)  # nothing changes: nothing logged
    assert store.keyword_log_span()[1] == end + 1
    assert found(index, "seven") == ["doc-7"]


def test_a_reader_of_several_parts_gets_the_scores_of_one_index_over_them(
    tmp_path: Path, make_store: Callable[..., SQLiteStore]
) -> None:
    # Passages of one length, so each part's average length is the union's: only the words'
    # weights differ between parts, and the boosts make them the union's.
    texts = [
        "ceasefire monitors report weekly",
        "ceasefire commission meets monthly",
        "refugee return begins slowly",
        "observers patrol the border",
        "ceasefire observers report daily",
        "border crossings reopen gradually",
    ]
    one = make_store(tmp_path / "one", apart=True)
    write(one, *enumerate(texts))
    parted = make_store(tmp_path / "parted", apart=True)
    write(parted, *enumerate(texts[:3]))
    write(parted, *list(enumerate(texts))[3:], classification="internal")
    # A passage added then removed counts until segments merge, in tantivy's statistics and
    # in the boosts alike.
    write(one, (9, "ceasefire ceasefire ceasefire observers"))
    write(parted, (9, "ceasefire ceasefire ceasefire observers"), classification="internal")
    whole, split = keywords(one), keywords(parted)
    for query in ("ceasefire observers", "report", "border ceasefire refugee"):
        assert found(whole, query) and found(split, query)  # both current, with the extra
    one.soft_delete("doc-9", "tester")
    parted.soft_delete("doc-9", "tester")
    reader = Viewer("ria", "reader", "internal")
    for query in ("ceasefire observers", "report", "border ceasefire refugee"):
        expected = whole.search(parse_query(query), 10, None)
        got = split.search(parse_query(query), 10, None, reader)
        assert expected is not None and got is not None
        by_id = {one.chunk_owners([c])[c]: s for c, s in expected}
        assert {parted.chunk_owners([c])[c]: s for c, s in got} == pytest.approx(by_id, rel=1e-4)


def test_another_process_changing_the_index_leaves_the_search_to_others(
    store: SQLiteStore,
) -> None:
    index = keywords(store)
    assert found(index, "ceasefire")
    other = Parts(store.folder)  # as another process would hold it: its own open file
    with other.exclusive():
        write(store, (4, "ceasefire in the delta"))
        assert index.search(parse_query("delta"), 10, None) is None  # busy: no waiting
    assert found(index, "delta") == ["doc-4"]
