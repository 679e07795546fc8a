"""Query understanding: places, regions, stages and years named in a query become
suggested filters, so a user (or the UI) can narrow the search in one step."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kb.keywords.query import STOPWORDS
from kb.models import Suggestion

MAX_VALUE_CHARS = 60
MAX_DISTINCT = 400  # more distinct values than this: an identifier or free text, not a facet
MIN_PART_CHARS = 4
MAX_SUGGESTIONS = 8
PART_SEPARATORS = re.compile(r"[/:()]| - ")
# Words that name no place, region or stage on their own.
GENERIC = frozenset(
    "former process other mixed unclear peace agreement agreements local general "
    "republic state states federation people".split()
)
WORD = re.compile(r"\w+")
YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)(s)?\b")
AFTER = re.compile(r"\b(?:since|after|from)\s+(1[89]\d\d|20\d\d)\b", re.IGNORECASE)
BEFORE = re.compile(r"\b(?:before|until|up to|prior to)\s+(1[89]\d\d|20\d\d)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Vocabulary:
    """Metadata values worth suggesting, with the phrases that name them."""

    entries: tuple[tuple[str, str, str, int], ...]  # key, value, phrase (lower case), documents
    # Positions in `entries` by the first word of the phrase. A phrase can only match a query
    # holding that word whole, so a query tries a handful of entries, not thousands.
    by_first_word: Mapping[str, tuple[int, ...]] = field(default_factory=dict)


def build_vocabulary(rows: Iterable[tuple[str, str, int]]) -> Vocabulary:
    """From (key, value, documents) rows: keys that look like facets (few, short values),
    each value split into the phrases it is known by ("Georgia/(Abkhazia)" -> georgia,
    abkhazia)."""
    by_key: dict[str, list[tuple[str, int]]] = {}
    for key, value, count in rows:
        by_key.setdefault(key, []).append((value, count))
    entries = []
    for key, values in by_key.items():
        if key in ("year", "date") or len(values) > MAX_DISTINCT:
            continue
        for value, count in values:
            if len(value) > MAX_VALUE_CHARS or not re.search(r"[A-Za-z]{3}", value):
                continue
            for phrase in _phrases(value):
                entries.append((key, value, phrase, count))
    by_first_word: dict[str, list[int]] = {}
    for position, (_, _, phrase, _) in enumerate(entries):
        words = WORD.findall(phrase)
        if words:
            by_first_word.setdefault(words[0], []).append(position)
    return Vocabulary(tuple(entries), {w: tuple(p) for w, p in by_first_word.items()})


def _phrases(value: str) -> set[str]:
    """What a value is called: each part ("Georgia/(Abkhazia)" -> georgia, abkhazia), and
    the leading proper noun of a longer part ("Bosnia and Herzegovina" -> also bosnia)."""
    phrases = set()
    for part in (p.strip() for p in PART_SEPARATORS.split(value)):
        first = part.split(" ")[0]
        for phrase in {part.lower(), first.lower() if first[:1].isupper() else ""}:
            if len(phrase) >= MIN_PART_CHARS and phrase not in STOPWORDS | GENERIC:
                phrases.add(phrase)
    return phrases


def suggest(query: str, vocabulary: Vocabulary) -> tuple[Suggestion, ...]:
    """Suggested filters for a query: metadata values it names, and years it mentions."""
    lowered = query.lower()
    found: dict[tuple[str, str], Suggestion] = {}
    positions = sorted(
        {p for word in set(WORD.findall(lowered)) for p in vocabulary.by_first_word.get(word, ())}
    )
    for key, value, phrase, count in (vocabulary.entries[p] for p in positions):
        if (key, value) not in found and re.search(rf"\b{re.escape(phrase)}\b", lowered):
            found[(key, value)] = Suggestion(key, value, phrase, count)
    ranked = sorted(found.values(), key=lambda s: (-len(s.matched), -s.documents, s.key, s.value))
    return tuple(ranked[:MAX_SUGGESTIONS]) + years(query)


def satisfies(metadata: Mapping[str, Any], suggestion: Suggestion) -> bool:
    """Whether a document's metadata already meets a suggested filter."""
    if suggestion.key in ("year_min", "year_max"):
        try:
            year = int(str(metadata.get("year", ""))[:4])
        except ValueError:
            return False
        bound = int(suggestion.value)
        return year >= bound if suggestion.key == "year_min" else year <= bound
    value = metadata.get(suggestion.key)
    values = value if isinstance(value, list) else [value]
    return suggestion.value in values


def years(query: str) -> tuple[Suggestion, ...]:
    """`year_min`/`year_max` from "since 2005", "before 1999", "the 1990s" or a bare year."""
    if match := AFTER.search(query):
        return (Suggestion("year_min", match.group(1), match.group(0), 0),)
    if match := BEFORE.search(query):
        return (Suggestion("year_max", match.group(1), match.group(0), 0),)
    if match := YEAR.search(query):
        year = int(match.group(1))
        last = year + 9 if match.group(2) else year
        return (
            Suggestion("year_min", str(year), match.group(0), 0),
            Suggestion("year_max", str(last), match.group(0), 0),
        )
    return ()
