"""Which of a query's words keyword search looks for: the selective ones, by passage counts.

FTS5 scores every passage an expression matches before it can return the best, so an OR over
a word found in half a million passages costs half a million BM25 scores, and a page-long
brief ORs hundreds of words. Such words add little to BM25 anyway (their IDF is small): the
plan leaves out words found in more than `keyword_common_share` of the passages and keeps at
most the `keyword_max_terms` rarest of the rest. A query of common words only is not emptied:
it looks for passages holding all of its rarest few (AND matches far fewer passages than OR),
and, should no passage hold them all, for its rarest word alone.

Even selective words add up at a million passages. FTS5's bm25 walks the whole passage list
of every word for its IDF (tens of nanoseconds a passage) and scores each match (microseconds),
so the kept words are also cut, rarest first, once their lists sum past
`keyword_max_postings`; and a plan matching more than `keyword_max_rows` passages first tries
"at least two of the four rarest words" and, failing that, scores only the latest-added
`keyword_max_rows` matches. Counting matches is cheap (FTS5 streams rowids, nothing scored)
and capped.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from itertools import combinations

from kb.keywords.query import WORD, ParsedQuery, quote
from kb.settings import Settings
from kb.store.protocol import Store

# Words ANDed when every word is common: each costs a walk of its whole passage list (bm25's
# IDF), and two already match few enough.
ALL_COMMON_TERMS = 2
PAIR_TERMS = 4  # "two of the rarest words" pairs up this many: six pairs
MAX_CACHED = 50_000  # counted terms kept per generation; past it the cache starts afresh


@dataclass(frozen=True)
class KeywordPlan:
    """FTS5 expressions to try in turn (the first that matches anything is used), the words
    searched and the words left out as too common or beyond the cap."""

    expressions: tuple[str, ...]
    kept: tuple[str, ...]
    dropped: tuple[str, ...]
    bounded: bool = False  # matches more than `keyword_max_rows`: only the latest are scored
    postings: int = 0  # passages matching each kept word, summed: what bm25's IDF walks
    last_resort: str | None = None  # the words left out, to fill in too few candidates


def plan_keywords(
    query: ParsedQuery,
    counts: Mapping[str, int],
    passages: int,
    common_share: float,
    most: int,
    postings: int | None = None,
) -> KeywordPlan:
    """The plan for a parsed query, given each term's passage count (capped counts are fine:
    a count at or over the common limit only means "common").

    Args:
        counts: passages matching each of `query.terms`.
        passages: passages in the keyword index.
        common_share: terms in more than this share of the passages are common.
        most: the most terms kept (phrases are always kept, and not counted).
        postings: the most passages the kept terms may match, summed (the rarest term is
            kept whatever its count).
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
        kept = _within_postings(kept, counts, postings)
        expression = " OR ".join(phrases + [quote(t) for t in kept])
        expressions = [expression] if expression else []
        return KeywordPlan(
            tuple(expressions),
            tuple(kept),
            _left(query, kept),
            postings=sum(counts.get(t, 0) for t in kept),
            last_resort=_last_resort(found, kept, most),
        )
    kept = found[: min(most, ALL_COMMON_TERMS)]
    expressions = [" AND ".join(quote(t) for t in kept)]
    if len(kept) > 1:
        expressions.append(quote(kept[0]))
    return KeywordPlan(
        tuple(expressions),
        tuple(kept),
        _left(query, kept),
        postings=sum(counts[t] for t in kept),
        last_resort=_last_resort(found, kept[:1], most),
    )


def _last_resort(found: list[str], kept: list[str], most: int) -> str | None:
    """Any of the words left out: they fill the candidates should the plan find too few of
    what the filters and the viewer allow (the counts are of the whole store)."""
    rest = [quote(t) for t in found if t not in kept][:most]
    return " OR ".join(rest) if rest else None


def run_plan(
    plan: KeywordPlan, search: Callable[[str], list[tuple[int, float]]], wanted: int
) -> list[tuple[int, float]]:
    """Chunk ids and scores: the first of the plan's expressions that finds anything, then, if
    that is fewer than `wanted`, passages of the last resort, scored below all of those."""
    hits: list[tuple[int, float]] = []
    for expression in plan.expressions:
        hits = search(expression)
        if hits:
            break
    if len(hits) >= wanted or plan.last_resort is None:
        return hits
    seen = {c for c, _ in hits}
    more = [(c, s) for c, s in search(plan.last_resort) if c not in seen]
    if not more:
        return hits
    # Another expression's BM25 is on another scale: shift it under the plan's lowest score.
    floor = min((s for _, s in hits), default=0.0) - max(s for _, s in more) - 1e-6
    return hits + [(c, s + floor) for c, s in more[: wanted - len(hits)]]


def _within_postings(terms: list[str], counts: Mapping[str, int], most: int | None) -> list[str]:
    """The rarest-first terms while their summed counts stay within `most` (at least one)."""
    kept: list[str] = []
    total = 0
    for term in terms:
        total += counts.get(term, 0)
        if kept and most is not None and total > most:
            break
        kept.append(term)
    return kept


def _left(query: ParsedQuery, kept: list[str]) -> tuple[str, ...]:
    return tuple(t for t in query.terms if t not in kept)


def common_limit(passages: int, common_share: float) -> int:
    """The most passages a term may match and still count as selective (at least one)."""
    return max(1, math.floor(passages * common_share))


class Selectivity:
    """Plans keyword searches from passage counts, cached for the store generation they were
    counted in."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self._store = store
        self._settings = settings
        self._lock = threading.Lock()
        self._generation = -1
        self._passages = 0
        self._counts: dict[str, int] = {}  # FTS5 expression -> passages (capped)

    def plan(self, query: ParsedQuery) -> KeywordPlan:
        passages = self._refresh()
        # One past the limit tells common from selective; counting further is waste.
        cap = common_limit(passages, self._settings.keyword_common_share) + 1
        counted = self._count([quote(t) for t in query.terms], cap)
        counts = {t: counted[quote(t)] for t in query.terms}
        plan = plan_keywords(
            query,
            counts,
            passages,
            self._settings.keyword_common_share,
            self._settings.keyword_max_terms,
            self._settings.keyword_max_postings,
        )
        return self._within_budget(plan)

    def _within_budget(self, plan: KeywordPlan) -> KeywordPlan:
        """The plan, or one that scores at most `keyword_max_rows` passages: "two of the
        rarest words" when that matches enough but not too many, else the plan bounded."""
        budget = self._settings.keyword_max_rows
        if not plan.expressions:
            return plan
        first = plan.expressions[0]
        if self._count([first], budget + 1)[first] <= budget:
            return plan
        # Each word of the pairs appears in several of them, and bm25 walks its list each time.
        walks = (min(len(plan.kept), PAIR_TERMS) - 1) * plan.postings
        if len(plan.kept) >= 2 and walks <= self._settings.keyword_max_postings:
            pairs = at_least_two(plan.kept[:PAIR_TERMS])
            if self._settings.candidates <= self._count([pairs], budget + 1)[pairs] <= budget:
                return replace(plan, expressions=(pairs, *plan.expressions), bounded=True)
        return replace(plan, bounded=True)

    def _refresh(self) -> int:
        """Passages in the keyword index; forgets the counts of an older generation."""
        generation = self._store.generation()
        with self._lock:
            if generation != self._generation or len(self._counts) > MAX_CACHED:
                self._generation = generation
                self._passages = self._store.keyword_rows()
                self._counts = {}
            return self._passages

    def _count(self, expressions: list[str], cap: int) -> dict[str, int]:
        with self._lock:
            known = {e: self._counts[e] for e in expressions if e in self._counts}
        missing = [e for e in expressions if e not in known]
        if missing:
            found = self._store.match_counts(missing, cap)
            with self._lock:
                self._counts.update(found)
            known.update(found)
        return known


def at_least_two(terms: list[str] | tuple[str, ...]) -> str:
    """An FTS5 expression for passages holding at least two of the terms."""
    return " OR ".join(f"({quote(a)} AND {quote(b)})" for a, b in combinations(terms, 2))
