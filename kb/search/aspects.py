"""Long crisis briefs: split into aspects, so each aspect finds its own precedents.

A brief that mentions a ceasefire, refugee return and a monitoring mission is searched as a
whole and once per sentence; a document that answers one aspect well is not drowned by the
words of the others.
"""

from __future__ import annotations

import re

SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|\n\s*\n|\n\s*[-*•]\s+")
MIN_ASPECT_WORDS = 4
MAX_ASPECTS = 8


def split_aspects(text: str, min_words: int) -> tuple[str, ...]:
    """The aspects of a query of at least `min_words` words: its sentences (short ones
    dropped, at most MAX_ASPECTS, the tail merged into the last); () for a short query."""
    if len(text.split()) < min_words:
        return ()
    sentences = [s.strip() for s in SENTENCE_END.split(text)]
    aspects = [s for s in sentences if len(s.split()) >= MIN_ASPECT_WORDS]
    if len(aspects) > MAX_ASPECTS:
        aspects = aspects[: MAX_ASPECTS - 1] + [" ".join(aspects[MAX_ASPECTS - 1 :])]
    return tuple(aspects) if len(aspects) > 1 else ()
