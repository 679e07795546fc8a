"""Which of a query's words keyword search looks for: the selective ones, by passage counts.

FTS5 scores every passage an expression matches before it can return the best, so an OR over
a word found in half a million passages costs half a million BM25 scores, and a page-long
brief ORs hundreds of words. Such words add little to BM25 anyway (their IDF is small): the
plan leaves out words found in more than `keyword_common_share` of the passages and keeps at
most the `keyword_max_terms` rarest of the rest. A query of common words only is not emptied:
it looks for passages holding all of its rarest few (AND matches far fewer passages than OR),
and, should no passage hold them all, for its rarest word alone.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from kb.query import WORD, ParsedQuery, quote
from kb.settings import Settings
from kb.store import Store

ALL_COMMON_TERMS = 3  # words ANDed when every word is common: few enough to match something
MAX_CACHED = 50_000  # counted terms kept per generation; past it the cache starts afresh


@dataclass(frozen=True)
class KeywordPlan:
    """FTS5 expressions to try in turn (the first that matches anything is used), the words
    searched and the words left out as too common or beyond the cap."""

    expressions: tuple[str, ...]
    kept: tuple[str, ...]
    dropped: tuple[str, ...]


def plan_keywords(
    query: ParsedQuery, counts: Mapping[str, int], passages: int, common_share: float, most: int
) -> KeywordPlan:
    """The plan for a parsed query, given each term's passage count (capped counts are fine:
    a count at or over the common limit only means "common").

    Args:
        counts: passages matching each of `query.terms`.
        passages: passages in the keyword index.
        common_share: terms in more than this share of the passages are common.
        most: the most terms kept (phrases are always kept, and not counted).
    """
    phrases = [quote(" ".join(WORD.findall(p))) for p in query.phrases]
    limit = common_limit(passages, common_share)
    # Rarest first; a tie keeps the query's own order (sorted is stable). A word no passage
    # holds matches nothing: it is left out rather than take a place under the cap.
    by_rarity = sorted(query.terms, key=lambda t: counts.get(t, 0))
    found = [t for t in by_rarity if counts.get(t, 0) > 0]
    rare = [t for t in found if counts[t] <= limit]
    if rare or phrases or not found:
        kept = rare[:most] if (rare or phrases) else by_rarity[:most]
        expression = " OR ".join(phrases + [quote(t) for t in kept])
        return KeywordPlan((expression,) if expression else (), tuple(kept), _left(query, kept))
    kept = found[: min(most, ALL_COMMON_TERMS)]
    expressions = [" AND ".join(quote(t) for t in kept)]
    if len(kept) > 1:
        expressions.append(quote(kept[0]))
    return KeywordPlan(tuple(expressions), tuple(kept), _left(query, kept))


def _left(query: ParsedQuery, kept: list[str]) -> tuple[str, ...]:
    return tuple(t for t in query.terms if t not in kept)


def common_limit(passages: int, common_share: float) -> int:
    """The most passages a term may match and still count as selective (at least one)."""
    return max(1, math.floor(passages * common_share))


class Selectivity:
    """Passage counts of query terms, cached for the store generation they were counted in."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self._store = store
        self._settings = settings
        self._lock = threading.Lock()
        self._generation = -1
        self._passages = 0
        self._counts: dict[str, int] = {}

    def plan(self, query: ParsedQuery) -> KeywordPlan:
        counts, passages = self._counts_of(query.terms)
        return plan_keywords(
            query,
            counts,
            passages,
            self._settings.keyword_common_share,
            self._settings.keyword_max_terms,
        )

    def _counts_of(self, terms: tuple[str, ...]) -> tuple[dict[str, int], int]:
        generation = self._store.generation()
        with self._lock:
            if generation != self._generation or len(self._counts) > MAX_CACHED:
                self._generation = generation
                self._passages = self._store.keyword_rows()
                self._counts = {}
            passages = self._passages
            missing = [t for t in terms if t not in self._counts]
        if missing:
            # One past the limit tells common from selective; counting further is waste.
            cap = common_limit(passages, self._settings.keyword_common_share) + 1
            found = self._store.match_counts([quote(t) for t in missing], cap)
            with self._lock:
                if self._generation == generation:
                    self._counts.update({t: found[quote(t)] for t in missing})
            counts = {t: found[quote(t)] for t in missing}
        else:
            counts = {}
        with self._lock:
            known = {t: self._counts[t] for t in terms if t in self._counts}
        return {**known, **counts}, passages
