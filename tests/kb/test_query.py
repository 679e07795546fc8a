from __future__ import annotations

import pytest

from kb.errors import InvalidRequestError
from kb.filters import parse_filters, split_pairs
from kb.query import fts_expression, parse_query
from kb.snippet import make_snippet


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
