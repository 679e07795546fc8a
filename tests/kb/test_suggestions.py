from __future__ import annotations

from kb.models import Suggestion
from kb.search.suggestions import build_vocabulary, satisfies, suggest, years

ROWS = [
    ("Con", "Georgia/(Abkhazia)/(Ossetia)", 40),
    ("Con", "Bosnia and Herzegovina/Yugoslavia (former)", 120),
    ("Con", "Syria", 30),
    ("Reg", "Europe and Eurasia", 400),
    ("AgtId", "431", 1),  # no letters: not a facet value
    ("stage", "ceasefire", 12),
    ("Part", "x" * 80, 1),  # too long to be a facet value
]


def pairs(suggestions: tuple[Suggestion, ...]) -> set[tuple[str, str]]:
    return {(s.key, s.value) for s in suggestions}


def test_places_named_in_a_query_suggest_their_metadata_values() -> None:
    found = suggest("Return of refugees to Abkhazia and Bosnia", build_vocabulary(ROWS))
    assert pairs(found) == {
        ("Con", "Georgia/(Abkhazia)/(Ossetia)"),
        ("Con", "Bosnia and Herzegovina/Yugoslavia (former)"),
    }
    abkhazia = next(s for s in found if s.value.startswith("Georgia"))
    assert (abkhazia.matched, abkhazia.documents) == ("abkhazia", 40)


def test_only_whole_words_match() -> None:
    vocabulary = build_vocabulary(ROWS)
    assert suggest("Syrian refugees", vocabulary) == ()
    assert pairs(suggest("a ceasefire in Syria", vocabulary)) == {
        ("Con", "Syria"),
        ("stage", "ceasefire"),
    }


def test_identifiers_long_texts_and_crowded_keys_are_not_facets() -> None:
    crowded = [("PPName", f"Process number {i}", 1) for i in range(500)]
    vocabulary = build_vocabulary([*ROWS, *crowded])
    assert {key for key, *_ in vocabulary.entries} == {"Con", "Reg", "stage"}


def test_years_become_ranges() -> None:
    assert pairs(years("agreements since 2005")) == {("year_min", "2005")}
    assert pairs(years("anything before 1999?")) == {("year_max", "1999")}
    assert pairs(years("Balkan accords of the 1990s")) == {
        ("year_min", "1990"),
        ("year_max", "1999"),
    }
    assert pairs(years("the 2003 border treaty")) == {("year_min", "2003"), ("year_max", "2003")}
    assert years("article 12 of 300 monitors") == ()


def test_satisfies_checks_values_lists_and_year_bounds() -> None:
    metadata = {"Con": "Syria", "countries": ["Kestria", "Valdoria"], "year": "2004"}
    assert satisfies(metadata, Suggestion("Con", "Syria", "syria", 3))
    assert satisfies(metadata, Suggestion("countries", "Valdoria", "valdoria", 1))
    assert not satisfies(metadata, Suggestion("Con", "Iraq", "iraq", 1))
    assert satisfies(metadata, Suggestion("year_min", "2000", "since 2000", 0))
    assert not satisfies(metadata, Suggestion("year_max", "1999", "before 1999", 0))
    assert not satisfies({}, Suggestion("year_min", "2000", "since 2000", 0))


def test_phrases_of_many_words_and_punctuation_still_match() -> None:
    rows = [*ROWS, ("Con", "Côte d'Ivoire", 9), ("Reg", "Great Lakes", 5)]
    found = suggest(
        "Disarmament in côte d'ivoire and the great lakes; Georgia's north", build_vocabulary(rows)
    )
    assert pairs(found) == {
        ("Con", "Côte d'Ivoire"),
        ("Reg", "Great Lakes"),
        ("Con", "Georgia/(Abkhazia)/(Ossetia)"),
    }
    assert suggest("lakes and ivoire", build_vocabulary(rows)) == ()
