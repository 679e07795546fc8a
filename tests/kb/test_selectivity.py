"""Which words keyword search looks for, counted on a real store; common words still answer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kb.embedding.embedder import Embedder
from kb.keywords.query import parse_query
from kb.keywords.selectivity import Selectivity, plan_keywords
from kb.knowledge_base import KnowledgeBase
from kb.models import Filters, SearchRequest
from kb.settings import Settings
from kb.store.sqlite.store import SQLiteStore
from tests.drafts import passage_draft

# Ten passages: "peace" in four, "security" in four others (never together), "ceasefire" in
# two, "cantonment" and "mindanao" in one each. With a common share of 0.3 (three passages)
# peace and security are common, the rest selective.
TEXTS = (
    "peace talks resumed after the ceasefire in Mindanao",
    "peace observers reported on the ceasefire",
    "peace dividends were slow to reach farmers",
    "peace committees met in every district",
    "security guarantees for returning combatants at cantonment sites",
    "security sector reform was funded by donors",
    "security forces withdrew from the border",
    "security of tenure for displaced families",
    "elections were held in the provinces",
    "a truth commission heard testimony",
)


@pytest.fixture
def store(tmp_path: Path) -> SQLiteStore:
    # Keyword search never reads vectors: one-dimensional zeros keep this test free of the model.
    folder = SQLiteStore(tmp_path / "store")
    drafts = [passage_draft(n, t) for n, t in enumerate(TEXTS)]
    folder.write_documents(drafts, [np.zeros((1, 1), np.float32) for _ in drafts])
    return folder


def settings(tmp_path: Path, most: int = 12) -> Settings:
    return Settings(store=tmp_path / "store", keyword_common_share=0.3, keyword_max_terms=most)


def test_common_words_are_dropped_and_selective_ones_kept(
    store: SQLiteStore, tmp_path: Path
) -> None:
    plan = Selectivity(store, settings(tmp_path)).plan(parse_query("peace ceasefire in Mindanao"))
    assert plan.kept == ("mindanao", "ceasefire")  # rarest first
    assert plan.dropped == ("peace",)
    # The common word comes back only should the selective ones find nothing allowed.
    assert plan.expressions == ('"mindanao" OR "ceasefire"',)
    assert plan.last_resort == '"peace"'


def test_quoted_phrases_are_kept_even_when_made_of_common_words(
    store: SQLiteStore, tmp_path: Path
) -> None:
    plan = Selectivity(store, settings(tmp_path)).plan(parse_query('"peace talks" security'))
    assert plan.expressions == ('"peace talks"',)
    assert plan.dropped == ("security",)


def test_a_query_of_common_words_only_asks_for_all_then_the_rarest(
    store: SQLiteStore, tmp_path: Path
) -> None:
    plan = Selectivity(store, settings(tmp_path)).plan(parse_query("security and peace"))
    assert plan.kept == ("security", "peace")
    assert plan.expressions == ('"security" AND "peace"', '"security"')


def test_a_long_brief_keeps_only_its_rarest_words(store: SQLiteStore, tmp_path: Path) -> None:
    brief = "peace security ceasefire cantonment elections truth testimony Valdoria " * 5
    plan = Selectivity(store, settings(tmp_path, most=2)).plan(parse_query(brief))
    # Words in one passage each, in the brief's order; Valdoria is in none, so takes no place.
    assert plan.kept == ("cantonment", "elections")
    assert set(plan.dropped) == {"peace", "security", "ceasefire", "truth", "testimony", "valdoria"}


def test_the_plan_is_never_empty_for_a_query_with_words(store: SQLiteStore, tmp_path: Path) -> None:
    selectivity = Selectivity(store, settings(tmp_path, most=1))
    for text in ("peace", "valdoria", "the", "peace security ceasefire", "who are they"):
        assert selectivity.plan(parse_query(text)).expressions, text
    assert selectivity.plan(parse_query("!!! ???")).expressions == ()


def test_counts_follow_the_store_when_it_changes(store: SQLiteStore, tmp_path: Path) -> None:
    selectivity = Selectivity(store, settings(tmp_path))
    assert selectivity.plan(parse_query("ceasefire peace")).kept == ("ceasefire",)
    more = [passage_draft(n, f"ceasefire violations number {n}") for n in range(10, 14)]
    store.write_documents(more, [np.zeros((1, 1), np.float32) for _ in more])
    # Six passages of fourteen now hold "ceasefire" (common past four); "peace", in four, is
    # now the selective word.
    assert selectivity.plan(parse_query("ceasefire peace")).kept == ("peace",)


def test_an_unplanned_common_share_of_one_keeps_every_word() -> None:
    parsed = parse_query("peace security ceasefire")
    plan = plan_keywords(parsed, {"peace": 9, "security": 9, "ceasefire": 2}, 10, 1.0, 64)
    assert plan.expressions == ('"ceasefire" OR "peace" OR "security"',)


def test_common_word_queries_still_find_passages(tmp_path: Path, embedder: Embedder) -> None:
    # No MMR re-ordering: the test reads the keyword order itself.
    plain = Settings(
        store=tmp_path / "store", keyword_common_share=0.3, diversity=0.0, keyword_engine="fts5"
    )
    with KnowledgeBase(plain, embedder=embedder) as kb:
        kb.add([passage_draft(n, t) for n, t in enumerate(TEXTS)])
        found = kb.search(SearchRequest(query="security peace", mode="keyword", limit=10))
        # No passage holds both, so the rarest (security; a tie keeps the query's order)
        # answers first, and the word left out fills in the candidates below it.
        ranked = [r.document_id for r in found.results]
        assert set(ranked[:4]) == {"doc-4", "doc-5", "doc-6", "doc-7"}
        assert set(ranked[4:]) == {"doc-0", "doc-1", "doc-2", "doc-3"}
        only = kb.search(SearchRequest(query="peace", mode="keyword", limit=10))
        assert {r.document_id for r in only.results} == {"doc-0", "doc-1", "doc-2", "doc-3"}
        mixed = kb.search(SearchRequest(query="peace at cantonment sites", mode="keyword"))
        ranked = [r.document_id for r in mixed.results]
        assert ranked[0] == "doc-4" and set(ranked[1:]) == {"doc-0", "doc-1", "doc-2", "doc-3"}
        hidden = Filters(doc_types=("agreement",))
        none = kb.search(SearchRequest(query="peace", mode="keyword", filters=hidden))
        assert none.results == ()


@pytest.fixture
def crowded(tmp_path: Path) -> SQLiteStore:
    """300 passages: every one says ceasefire, one in two monitoring, one in three mission."""
    folder = SQLiteStore(tmp_path / "crowded")
    drafts = [
        passage_draft(
            n,
            f"ceasefire report {n}"
            + (" monitoring" if n % 2 == 0 else "")
            + (" mission" if n % 3 == 0 else ""),
        )
        for n in range(300)
    ]
    folder.write_documents(drafts, [np.zeros((1, 1), np.float32) for _ in drafts])
    return folder


def budgeted(tmp_path: Path) -> Settings:
    return Settings(
        store=tmp_path / "crowded", keyword_common_share=1.0, keyword_max_rows=100, candidates=10
    )


def test_too_many_matches_search_passages_with_two_of_the_rarest_words(
    crowded: SQLiteStore, tmp_path: Path
) -> None:
    plan = Selectivity(crowded, budgeted(tmp_path)).plan(parse_query("monitoring mission"))
    # 200 passages hold either word, 50 both: within the budget of 100, above 10 candidates.
    assert plan.expressions[0] == '("mission" AND "monitoring")'
    hits = crowded.keyword_search(plan.expressions[0], Filters(), 100, 100)
    texts = [c.text for c in crowded.chunks_by_id([c for c, _ in hits]).values()]
    assert len(texts) == 50 and all("monitoring" in t and "mission" in t for t in texts)


def test_past_the_budget_only_the_latest_matches_are_scored(
    crowded: SQLiteStore, tmp_path: Path
) -> None:
    plan = Selectivity(crowded, budgeted(tmp_path)).plan(parse_query("ceasefire monitoring"))
    assert plan.bounded  # 300 passages match, and 150 hold both words
    hits = crowded.keyword_search(plan.expressions[0], Filters(), 300, 100)
    assert len(hits) == 100
    assert min(c for c, _ in hits) == 201  # chunk ids 1..300, in the order written
    assert len(crowded.keyword_search(plan.expressions[0], Filters(), 300)) == 300


def test_rare_words_are_kept_while_their_passage_lists_fit_the_postings_limit() -> None:
    parsed = parse_query("ceasefire monitoring mission observers")
    counts = {"ceasefire": 400, "monitoring": 300, "mission": 200, "observers": 100}
    plan = plan_keywords(parsed, counts, 10_000, 0.05, 12, postings=600)
    assert plan.kept == ("observers", "mission", "monitoring")  # 100 + 200 + 300
    assert plan.postings == 600 and plan.dropped == ("ceasefire",)
    alone = plan_keywords(parsed, counts, 10_000, 0.05, 12, postings=50)
    assert alone.kept == ("observers",)  # the rarest stays whatever its count
