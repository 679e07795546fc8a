from __future__ import annotations

import numpy as np

from kb.search.diversity import mmr

RELEVANCE = {"p1": 1.0, "p2": 0.98, "p3": 0.97, "other": 0.9, "far": 0.1}
# p1-p3: protocols of one peace process (nearly the same vector); "other" points elsewhere
VECTORS = {
    "p1": np.array([1.0, 0.0, 0.0], np.float32),
    "p2": np.array([0.99, 0.14, 0.0], np.float32),
    "p3": np.array([0.99, 0.0, 0.14], np.float32),
    "other": np.array([0.0, 1.0, 0.0], np.float32),
    "far": np.array([0.0, 0.0, 1.0], np.float32),
}
ORDER = ["p1", "p2", "p3", "other", "far"]


def order(picked: list[tuple[str, float]]) -> list[str]:
    return [d for d, _ in picked]


def test_no_diversity_keeps_the_order() -> None:
    assert order(mmr(ORDER, RELEVANCE, VECTORS, 0.0)) == ORDER


def test_a_little_diversity_lifts_the_other_process_above_near_duplicates() -> None:
    picked = mmr(ORDER, RELEVANCE, VECTORS, 0.3)
    reordered = order(picked)
    assert reordered[0] == "p1"
    assert reordered.index("other") < reordered.index("p2")
    assert sorted(reordered) == sorted(ORDER)
    gains = [g for _, g in picked]
    assert gains == sorted(gains, reverse=True)  # a later pick never beats an earlier one


def test_relevance_still_rules_a_weak_document() -> None:
    assert order(mmr(ORDER, RELEVANCE, VECTORS, 0.1))[-1] == "far"


def test_documents_without_vectors_rank_by_relevance() -> None:
    assert order(mmr(ORDER, RELEVANCE, {}, 0.5)) == ORDER
