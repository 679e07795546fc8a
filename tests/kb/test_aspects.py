from __future__ import annotations

import pytest

from kb.search.aspects import MAX_ASPECTS, split_aspects
from kb.search.fusion import combine_aspects

BRIEF = (
    "Fighting in the north stopped last week under a fragile truce. "
    "Some forty thousand people fled across the border and want to go home. "
    "Both sides ask for an international mission to watch the line. "
    "Ok. "
    "Donors will fund reconstruction if the talks hold."
)


def test_a_short_query_has_no_aspects() -> None:
    assert split_aspects("ceasefire monitoring mission", min_words=10) == ()


def test_a_brief_splits_into_its_sentences_dropping_fragments() -> None:
    aspects = split_aspects(BRIEF, min_words=20)
    assert len(aspects) == 4
    assert aspects[1].startswith("Some forty thousand people fled")
    assert "Ok." not in aspects


def test_bullets_and_paragraphs_are_aspects_too() -> None:
    text = (
        "Context of the crisis in the valley today\n"
        "- a ceasefire that keeps breaking down\n"
        "- return of displaced families to their villages"
    )
    assert len(split_aspects(text, min_words=5)) == 3


def test_too_many_sentences_merge_into_the_last_aspect() -> None:
    text = " ".join(f"Sentence number {i} says something." for i in range(12))
    aspects = split_aspects(text, min_words=5)
    assert len(aspects) == MAX_ASPECTS
    assert aspects[-1].startswith("Sentence number 7") and aspects[-1].endswith(
        "number 11 says something."
    )


def test_the_aspect_weight_moves_documents_one_aspect_wants() -> None:
    whole = ({"a": 3.0, "b": 2.9, "c": 1.0, "d": 0.5}, {1: 3.0})
    aspect_one = ({"a": 1.0, "b": 0.9, "c": 0.2}, {1: 1.0})
    aspect_two = ({"c": 5.0, "a": 0.1, "b": 0.1}, {2: 5.0})
    whole_only, _ = combine_aspects(whole, [aspect_one, aspect_two], weight=0.0)
    assert sorted(whole_only, key=lambda d: -whole_only[d]) == ["a", "b", "c", "d"]
    aspects_only, chunks = combine_aspects(whole, [aspect_one, aspect_two], weight=1.0)
    assert aspects_only["c"] > aspects_only["b"]  # aspect two wants c above all
    assert aspects_only["d"] == min(aspects_only.values())  # no aspect returned d
    assert set(chunks) == {1, 2}


@pytest.mark.parametrize("weight", [0.0, 0.3, 1.0])
def test_weights_sum_to_one(weight: float) -> None:
    same = ({"a": 2.0, "b": 0.0}, {})
    docs, _ = combine_aspects(same, [same, same], weight)
    assert docs["a"] == pytest.approx(1.0) and docs["b"] == pytest.approx(-1.0)
