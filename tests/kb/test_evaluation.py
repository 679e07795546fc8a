from __future__ import annotations

import math
from pathlib import Path

import pytest

from kb.errors import InvalidRequestError
from kb.evaluation import Query, evaluate, ndcg, read_qrels, read_queries, recall, reciprocal_rank
from kb.models import Filters, Precedent, SearchRequest, SearchResponse


def test_ndcg_uses_graded_gains_and_the_ideal_order() -> None:
    gains = {"a": 2, "b": 1, "c": 0}
    assert ndcg(["a", "b", "x"], gains) == pytest.approx(1.0)
    swapped = (1 + 2 / math.log2(3)) / (2 + 1 / math.log2(3))
    assert ndcg(["b", "a"], gains) == pytest.approx(swapped)
    assert ndcg(["x", "c"], gains) == 0.0
    assert ndcg(["a"], {}) == 0.0


def test_recall_and_reciprocal_rank_ignore_zero_gains() -> None:
    gains = {"a": 1, "b": 2, "c": 0}
    assert recall(["c", "a", "x"], gains, 10) == 0.5
    assert recall(["x"] * 10 + ["a", "b"], gains, 10) == 0.0
    assert reciprocal_rank(["c", "x", "b"], gains) == pytest.approx(1 / 3)


def test_qrels_tolerate_crlf_header_and_trec_columns(tmp_path: Path) -> None:
    path = tmp_path / "test.tsv"
    path.write_bytes(b"query-id\tcorpus-id\tscore\r\nq1\td1\t2\r\nq1\td2\t0\r\n\r\nq2 Q0 d3 1\r\n")
    assert read_qrels(path) == {"q1": {"d1": 2, "d2": 0}, "q2": {"d3": 1}}
    path.write_text("q1\td1\tlots\nq2\td2\tbad\n")
    with pytest.raises(InvalidRequestError, match="line 2"):
        read_qrels(path)


def test_queries_keep_only_the_judged_with_their_filters(tmp_path: Path) -> None:
    path = tmp_path / "queries.jsonl"
    path.write_bytes(
        b'{"_id": "q1", "text": "ceasefire", '
        b'"metadata": {"filter": {"region": "Aurel", "year_min": 1998}}}\r\n'
        b'{"_id": "q2", "text": "unjudged"}\r\n'
        b'{"_id": 3, "text": "numeric id", "metadata": {"x": 1}}\n'
    )
    queries = read_queries(path, {"q1", "3"})
    assert [q.query_id for q in queries] == ["q1", "3"]
    assert queries[0].filters == Filters(
        equals={"region": ("Aurel",)}, ranges={"year": ("1998", None)}
    )
    assert queries[1].filters == Filters()


def test_evaluate_averages_over_judged_queries_only() -> None:
    def search(requests: list[SearchRequest]) -> list[SearchResponse]:
        return [
            SearchResponse(
                r.query,
                r.mode,
                2,
                tuple(Precedent(d, d, "other", None, 1.0, {}, ()) for d in r.query.split()),
            )
            for r in requests
        ]

    queries = [Query("q1", "a b"), Query("q2", "x a"), Query("q3", "a")]
    qrels = {"q1": {"a": 1}, "q2": {"a": 1}, "q3": {"z": 0}}
    scores = evaluate(search, queries, qrels, "hybrid")
    assert scores.queries == 2
    assert scores.mrr_10 == pytest.approx((1 + 0.5) / 2)
    assert scores.recall_10 == 1.0


def test_a_judged_query_without_text_counts_as_zero() -> None:
    def search(requests: list[SearchRequest]) -> list[SearchResponse]:
        return [
            SearchResponse(r.query, r.mode, 1, (Precedent("a", "a", "other", None, 1.0, {}, ()),))
            for r in requests
        ]

    scores = evaluate(
        search, [Query("q1", "a"), Query("q2", "  ")], {"q1": {"a": 1}, "q2": {"a": 1}}, "hybrid"
    )
    assert scores.queries == 2 and scores.ndcg_10 == pytest.approx(0.5)


def test_a_bad_query_filter_names_the_query(tmp_path: Path) -> None:
    path = tmp_path / "queries.jsonl"
    path.write_text('{"_id": "q9", "text": "x", "metadata": {"filter": {"doc_type": "treaty"}}}\n')
    with pytest.raises(InvalidRequestError, match="query q9: doc_type must be one of"):
        read_queries(path, {"q9"})
