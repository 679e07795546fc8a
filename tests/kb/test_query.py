from __future__ import annotations

import pytest

from kb.errors import InvalidRequestError
from kb.keywords.query import fts_expression, parse_query
from kb.metadata.filters import parse_filters, split_pairs
from kb.search.snippet import make_snippet


def test_terms_drop_stopwords_and_keep_phrases() -> None:
    parsed = parse_query('the return of "internally displaced persons" to Valdoria')
    assert parsed.terms == ("return", "valdoria")
    assert parsed.phrases == ("internally displaced persons",)
    assert fts_expression(parsed) == '"internally displaced persons" OR "return" OR "valdoria"'


def test_fts_syntax_in_user_text_is_quoted_away() -> None:
    parsed = parse_query('ceasefire NEAR(monitoring) AND -x* "unclosed')
    expression = fts_expression(parsed)
    assert expression is not None
    assert all(part.startswith('"') and part.endswith('"') for part in expression.split(" OR "))


def test_a_query_of_stopwords_only_still_searches() -> None:
    assert parse_query("who are they").terms == ("who", "are", "they")
    assert fts_expression(parse_query("!!! ???")) is None


def test_snippet_marks_terms_and_escapes_html() -> None:
    snippet = make_snippet(
        "Refugees <b>returned</b> after the ceasefire held.", ("refugees", "ceasefire")
    )
    assert "<mark>Refugees</mark>" in snippet and "<mark>ceasefire</mark>" in snippet
    assert "&lt;b&gt;" in snippet and "<b>" not in snippet


def test_snippet_window_centres_on_matches() -> None:
    text = " ".join(["filler"] * 200) + " cantonment sites opened " + " ".join(["filler"] * 200)
    snippet = make_snippet(text, ("cantonment",), width=20)
    assert "<mark>cantonment</mark>" in snippet
    assert snippet.startswith("… ") and snippet.endswith(" …")


def test_filters_parse_every_kind_of_key() -> None:
    filters = parse_filters(
        split_pairs(
            [
                "doc_type=agreement",
                "region=Aurel",
                "region=Tamsin",
                "year_min=1998",
                "year_max=2005",
                "date_from=1999",
                "date_to=2004-06",
            ]
        )
    )
    assert filters.doc_types == ("agreement",)
    assert filters.equals == {"region": ("Aurel", "Tamsin")}
    assert filters.ranges == {"year": ("1998", "2005")}
    assert (filters.date_from, filters.date_to) == ("1999", "2004-06")


@pytest.mark.parametrize(
    "pair", ["no-equals", "doc_type=treaty", "date_from=yesterday", 'bad"key=1', "=value"]
)
def test_bad_filters_are_refused_with_a_reason(pair: str) -> None:
    with pytest.raises(InvalidRequestError):
        parse_filters(split_pairs([pair]))


@pytest.mark.parametrize(
    ("pair", "allowed"),
    [
        ("year_min=abc", "a number or a date"),
        ("year_max=nan", "a number or a date"),
        ("year_max=1e999", "a number or a date"),  # inf
        ("date_min=2020-13-45", "a number or a date"),
        ("date_from=2020-13-45", "one real date as YYYY, YYYY-MM or YYYY-MM-DD"),
        ("date_to=2019-02-29", "one real date"),
        ("date_to=20", "one real date"),
        ("evaluates=two words", "a document id"),
        ("related_to=", "a document id"),
    ],
)
def test_a_bad_value_is_refused_naming_its_key_and_what_it_takes(pair: str, allowed: str) -> None:
    key, _, value = pair.partition("=")
    with pytest.raises(InvalidRequestError) as caught:
        parse_filters(split_pairs([pair]))
    assert caught.value.message.startswith(key) and allowed in caught.value.message
    assert repr(value) in caught.value.message


def test_bounds_take_numbers_and_dates() -> None:
    filters = parse_filters(
        {"year_min": 1995, "budget_max": "2.5e6", "date_min": "2004-06", "date_max": "2020-02-29"}
    )
    assert filters.ranges == {
        "year": ("1995", None),
        "budget": (None, "2.5e6"),
        "date": ("2004-06", "2020-02-29"),
    }
