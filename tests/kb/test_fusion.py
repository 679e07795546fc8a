from __future__ import annotations

import pytest

from kb.search.fusion import Ranking, best_scores, reciprocal_rank_fusion, score_fusion

# chunks 1-2 belong to document a, 3 to b, 4 to c, 5 to d
OWNER = {1: "a", 2: "a", 3: "b", 4: "c", 5: "d"}
DENSE = Ranking((2, 3, 1, 4), (0.9, 0.8, 0.7, 0.2))
KEYWORD = Ranking((4, 3, 5), (12.0, 11.5, 3.0))


def order(scores: dict[str, float]) -> list[str]:
    return sorted(scores, key=lambda d: -scores[d])


def test_a_document_scores_as_its_best_passage() -> None:
    docs, chunks = best_scores(DENSE, OWNER)
    assert docs == {"a": 0.9, "b": 0.8, "c": 0.2}
    assert chunks == {2: 0.9, 3: 0.8, 1: 0.7, 4: 0.2}


def test_passages_of_deleted_documents_are_skipped() -> None:
    docs, _ = best_scores(Ranking((9, 3), (1.0, 0.5)), OWNER)
    assert docs == {"b": 0.5}


def test_rrf_counts_ranks_among_documents() -> None:
    docs, chunks = reciprocal_rank_fusion([DENSE, KEYWORD], OWNER, k=60)
    # dense: a=1, b=2, c=3 (chunk 1 repeats a); keyword: c=1, b=2, d=3
    assert docs["b"] == pytest.approx(2 / 62)
    assert docs["a"] == pytest.approx(1 / 61)
    assert docs["c"] == pytest.approx(1 / 63 + 1 / 61)
    assert order(docs)[:2] == ["c", "b"]
    assert chunks[1] == pytest.approx(1 / 63)  # passages keep their own rank


def test_score_fusion_with_all_weight_on_one_side_is_that_side() -> None:
    dense_only, _ = score_fusion([DENSE, KEYWORD], OWNER, (1.0, 0.0))
    assert order(dense_only)[:2] == ["a", "b"]
    keyword_only, _ = score_fusion([DENSE, KEYWORD], OWNER, (0.0, 1.0))
    assert order(keyword_only)[:2] == ["c", "b"]
    assert keyword_only["a"] == keyword_only["d"]  # a is missing: it gets the floor, d's score


def test_score_fusion_ignores_the_scale_of_each_retriever() -> None:
    louder = Ranking(KEYWORD.chunk_ids, tuple(s * 100 + 7 for s in KEYWORD.scores))
    plain, _ = score_fusion([DENSE, KEYWORD], OWNER, (0.5, 0.5))
    scaled, _ = score_fusion([DENSE, louder], OWNER, (0.5, 0.5))
    assert plain == pytest.approx(scaled)


def test_score_fusion_keeps_margins_that_rank_fusion_loses() -> None:
    owner = dict(zip(range(1, 7), "abcdef", strict=True))
    # dense barely separates the six; keyword puts d far ahead of everything else
    dense = Ranking((1, 2, 3, 4, 5, 6), (0.80, 0.79, 0.78, 0.77, 0.76, 0.75))
    keyword = Ranking((4, 2, 1, 3, 5, 6), (30.0, 2.2, 2.1, 2.0, 1.9, 1.8))
    fused, _ = score_fusion([dense, keyword], owner, (0.5, 0.5))
    assert order(fused)[0] == "d"
    rrf, _ = reciprocal_rank_fusion([dense, keyword], owner, k=60)
    assert order(rrf)[:2] == ["a", "b"]


def test_a_candidate_missing_from_one_list_gets_its_floor() -> None:
    fused, _ = score_fusion([DENSE, KEYWORD], OWNER, (0.5, 0.5))
    assert set(fused) == {"a", "b", "c", "d"}
    assert fused["d"] < fused["b"]
