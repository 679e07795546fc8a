"""Short excerpts of a passage with the query's terms marked."""

from __future__ import annotations

import html
import re
from bisect import bisect_left
from functools import lru_cache

WORD = re.compile(r"\w+")
SPACES = re.compile(r"\s+")
MARK_OPEN, MARK_CLOSE = "<mark>", "</mark>"


def make_snippet(text: str, terms: tuple[str, ...], width: int = 40) -> str:
    """An HTML-safe window of about `width` words around the densest run of matches.

    Matched words are wrapped in <mark>; everything else is escaped.
    """
    spans = [m.span() for m in WORD.finditer(text)]
    if not spans:
        return html.escape(text[:300])
    starts = [s for s, _ in spans]
    hits = [False] * len(spans)
    found: dict[int, int] = {}
    for match in _term_pattern(terms).finditer(text):
        # Matches begin at word starts only (the pattern's look-behind), so this is exact.
        at = bisect_left(starts, match.start())
        hits[at] = True
        found[at] = match.end()
    start = _best_window(hits, width)
    end = min(start + width, len(spans))
    # At the passage's end, keep its closing punctuation.
    stop = spans[end - 1][1] if end < len(spans) else len(text)
    parts = []
    cursor = spans[start][0]
    for at in range(start, end):
        if hits[at]:
            parts.append(html.escape(text[cursor : starts[at]]))
            parts.append(f"{MARK_OPEN}{html.escape(text[starts[at] : found[at]])}{MARK_CLOSE}")
            cursor = found[at]
    parts.append(html.escape(text[cursor:stop]))
    # Paragraph breaks inside a passage read as plain spaces in a one-line excerpt.
    body = SPACES.sub(" ", "".join(parts)).strip()
    prefix = "… " if start > 0 else ""
    suffix = " …" if end < len(spans) else ""
    return prefix + body + suffix


def _best_window(hits: list[bool], width: int) -> int:
    """Start of the `width`-word window holding the most matches, a few words before its first."""
    if len(hits) <= width or not any(hits):
        return 0
    best, best_start = sum(hits[:width]), 0
    current = best
    for start in range(1, len(hits) - width + 1):
        current += hits[start + width - 1] - hits[start - 1]
        if current > best:
            best, best_start = current, start
    first_hit = hits.index(True, best_start)
    return max(0, min(first_hit - 3, len(hits) - width))


def matched_terms(texts: list[str], terms: tuple[str, ...]) -> tuple[str, ...]:
    """The query terms that some word of these texts matches, in query order."""
    words = {m.group().lower() for text in texts for m in _term_pattern(terms).finditer(text)}
    return tuple(t for t in terms if any(_matches(w, t.lower()) for w in words))


def _matches(word: str, term: str) -> bool:
    # A shared stem, roughly: 'ceasefires' and 'monitored' still light up.
    return word == term or (len(term) >= 4 and word.startswith(term[: max(4, len(term) - 2)]))


def _pattern_of(term: str) -> str:
    # As `_matches`, for a regular expression.
    if len(term) >= 4:
        return re.escape(term[: max(4, len(term) - 2)]) + r"\w*"
    return re.escape(term) + r"(?!\w)"


@lru_cache(maxsize=1024)
def _term_pattern(terms: tuple[str, ...]) -> re.Pattern[str]:
    """Where in a text a word matching one of the terms starts (compiled once per query)."""
    alternatives = "|".join(_pattern_of(t.lower()) for t in terms) or r"(?!)"
    return re.compile(rf"(?<!\w)(?:{alternatives})", re.IGNORECASE)
