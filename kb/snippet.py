"""Short excerpts of a passage with the query's terms marked."""

from __future__ import annotations

import html
import re

TOKEN = re.compile(r"\w+|\W+")
MARK_OPEN, MARK_CLOSE = "<mark>", "</mark>"


def make_snippet(text: str, terms: tuple[str, ...], width: int = 40) -> str:
    """An HTML-safe window of about `width` words around the densest run of matches.

    Matched words are wrapped in <mark>; everything else is escaped.
    """
    tokens = TOKEN.findall(text)
    word_positions = [i for i, t in enumerate(tokens) if t[0].isalnum() or t[0] == "_"]
    hits = [_matches(tokens[i], terms) for i in word_positions]
    if not word_positions:
        return html.escape(text[:300])
    start = _best_window(hits, width)
    end = min(start + width, len(word_positions))
    first_token = word_positions[start]
    # At the passage's end, keep its closing punctuation.
    last_token = word_positions[end - 1] if end < len(word_positions) else len(tokens) - 1
    is_word = set(word_positions)
    parts = []
    for index in range(first_token, last_token + 1):
        token = tokens[index]
        # Paragraph breaks inside a passage read as plain spaces in a one-line excerpt.
        escaped = html.escape(re.sub(r"\s+", " ", token))
        if index in is_word and _matches(token, terms):
            escaped = f"{MARK_OPEN}{escaped}{MARK_CLOSE}"
        parts.append(escaped)
    prefix = "… " if start > 0 else ""
    suffix = " …" if end < len(word_positions) else ""
    return prefix + "".join(parts).strip() + suffix


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
    words = {w.lower() for text in texts for w in re.findall(r"\w+", text)}
    return tuple(t for t in terms if any(_matches(w, (t,)) for w in words))


def _matches(word: str, terms: tuple[str, ...]) -> bool:
    lowered = word.lower()
    for term in terms:
        # A shared stem, roughly: 'ceasefires' and 'monitored' still light up.
        stem = term[: max(4, len(term) - 2)]
        if lowered == term or (len(term) >= 4 and lowered.startswith(stem)):
            return True
    return False
