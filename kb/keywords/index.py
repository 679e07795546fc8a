"""The keyword index cache: BM25 over every passage with tantivy, kept beside the store.

FTS5 scores every passage a query matches before it can return the best, so at a million
passages a brief's keyword search costs tens of milliseconds even with its words cut down
(kb.keywords.selectivity). tantivy skips the passages that cannot reach the top (block-max WAND) and
ranks all matches, not the latest few thousand: a few milliseconds at a million passages.

Like the FAISS index it is a cache, rebuilt from SQLite whenever in doubt. The store's
`keyword_log` (written by triggers, in the transaction of each change, whatever process makes
it) names every passage added, removed, retitled or re-marked; each part of the index
(kb.keywords.parts: one per marking, so that no reader's scores count passages they may not
see) records the log position it is current to. A search uses the index only when every part
is at the store's present state: a short lag is caught up first (the search waits a few
milliseconds), a long one or a first build runs in the background meanwhile.

A reader who may see several parts searches each, and the scores are put on one scale: each
word's weight (its IDF) is the one it has over the parts the reader may see together, given to
tantivy as a boost of the word in each part (each part keeps its own average passage length).
A reader of one part gets tantivy's scores as they are.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import tantivy

from kb.access import Viewer, may_see_marking
from kb.keywords.parts import (
    EVERY,
    EVERY_TERM,
    FIELD,
    Parts,
    PartsBusyError,
    PartState,
    analyzer,
)
from kb.keywords.query import WORD, ParsedQuery
from kb.settings import Settings
from kb.store.allowed import Allowed
from kb.store.protocol import KeywordText, Marking, Store

log = logging.getLogger(__name__)

BATCH = 5_000  # passages read from the store per step of a build
# Filtered searches: a set of at most this many passages is searched within (a term set on
# chunk ids); a larger one is kept from the best matches, fetched in proportion to its share.
WITHIN_MOST = 20_000
FETCH_MOST = 20_000
Hit = tuple[int, float]


@dataclass(frozen=True)
class Clause:
    """One word (one token) or one quoted phrase (its tokens in order) of a query."""

    tokens: tuple[str, ...]

    def query(self, schema: tantivy.Schema) -> tantivy.Query:
        if len(self.tokens) == 1:
            return tantivy.Query.term_query(schema, FIELD, self.tokens[0], "freq")
        words: list[str | tuple[int, str]] = list(self.tokens)
        return tantivy.Query.phrase_query(schema, FIELD, words)


def _busy(exc: BaseException) -> bool:
    """Whether another writer (tantivy's, or another process's hold on the parts) is at work."""
    return isinstance(exc, PartsBusyError) or "LockBusy" in str(exc)


def idf(passages: int, holding: int) -> float:
    """BM25's inverse document frequency, as tantivy computes it (both counts include
    passages deleted since the last merge, as tantivy's do)."""
    return math.log(1.0 + (passages - holding + 0.5) / (holding + 0.5))


class KeywordIndex:
    """One store's tantivy index, in parts by marking; thread-safe (the server's threads share
    it)."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        stamp: Callable[[], str],
        within_most: int = WITHIN_MOST,
    ) -> None:
        self._store = store
        self._within_most = within_most
        self._settings = settings
        self._stamp = stamp  # the store's vectors stamp: changed by a restore from backup
        self._parts = Parts(settings.store)
        self._lock = threading.Lock()  # one catch-up at a time in this process
        self._current: dict[Marking, tantivy.Index] | None = None
        self._current_at: int | None = None  # store generation at which it was current
        self._builder: threading.Thread | None = None
        self._failed_at: int | None = None  # generation at which a background build failed
        self._analyzer = analyzer()  # the index's own, for the query's tokens

    # -- searching ----------------------------------------------------------------------

    def search(
        self,
        query: ParsedQuery,
        limit: int,
        allowed: Allowed | None,
        viewer: Viewer | None = None,
    ) -> list[Hit] | None:
        """Chunk ids and BM25 scores, best first, among the passages the viewer may see; None
        when the index is not at the store's present state (the caller searches otherwise)."""
        parts = self._ready()
        if parts is None:
            return None
        clauses = self._clauses(query)
        seen = [parts[m] for m in sorted(parts) if may_see_marking(viewer, m)]
        if not clauses or not seen:
            return []
        searchers = [index.searcher() for index in seen]
        boosts = _boosts(clauses, searchers) if len(seen) > 1 else None
        fetch, within = limit, None
        if allowed is not None:
            if len(allowed.ids) <= self._within_most:
                within = [int(i) for i in allowed.ids]
            else:
                share = len(allowed.ids) / max(1, sum(s.num_docs for s in searchers))
                fetch = min(FETCH_MOST, max(limit, math.ceil(2 * limit / share)))
        found: list[Hit] = []
        for n, (index, searcher) in enumerate(zip(seen, searchers, strict=True)):
            parsed = _query(index.schema, clauses, None if boosts is None else boosts[n], within)
            hits = searcher.search(parsed, fetch, count=False).hits
            ids = searcher.fast_field_values("cid", [address for _, address in hits])
            found.extend(
                (int(i), float(s)) for i, (s, _) in zip(ids, hits, strict=True) if i is not None
            )
        if len(seen) > 1:
            found.sort(key=lambda hit: -hit[1])  # stable: ties keep the parts' order
        return found[:limit] if allowed is None else allowed.keep(found, limit)

    def _clauses(self, query: ParsedQuery) -> list[Clause]:
        """Any of the query's words or quoted phrases, built from the index's own analyzer's
        tokens rather than by tantivy's query parser: no user text is ever syntax (a parser
        refused some Unicode words outright)."""
        clauses: list[Clause] = []
        for phrase in query.phrases:
            words = self._analyzer.analyze(" ".join(WORD.findall(phrase)))
            if words:
                clauses.append(Clause(tuple(words)))
        tokens = (token for term in query.terms for token in self._analyzer.analyze(term))
        clauses.extend(Clause((token,)) for token in dict.fromkeys(tokens))
        return clauses

    # -- keeping it current -------------------------------------------------------------

    def _ready(self) -> dict[Marking, tantivy.Index] | None:
        generation = self._store.generation()
        current = self._current
        if current is not None and self._current_at == generation:
            return current
        with self._lock:
            if self._builder is not None and self._builder.is_alive():
                return None
            if self._failed_at == generation:
                return None  # tried at this state of the store already; the log says why
            caught_up = self._try_catch_up(generation, self._settings.keyword_sync_rows)
            if caught_up:
                return self._current
            if caught_up is None:  # another process is writing it: not this search's index
                return None
            self._builder = threading.Thread(
                target=self._build_in_background, name="kb-keyword-build", daemon=True
            )
            self._builder.start()
            return None

    def _catch_up(self, generation: int, most: int | None) -> bool:
        """Bring every part to the store's present state if that means re-reading at most
        `most` passages (None: any number); False if it would mean more. Caller holds the lock."""
        start, end = self._store.keyword_log_span()
        stamp = self._stamp()
        states = self._parts.states()
        trusted = states is not None and all(
            s is not None and s.stamp == stamp and start - 1 <= s.seq <= end
            for s in states.values()
        )
        if states is None or not trusted:
            if most is not None and self._store.keyword_rows() > most:
                return False
            count = self._parts.rebuild(self._store.iter_keyword_texts(BATCH), end, stamp)
            log.info("built the keyword index of %d passages (log position %d)", count, end)
        else:
            known = {m: s for m, s in states.items() if s is not None}
            # A marking first seen now came with writes after the oldest part's position.
            floor = min(s.seq for s in known.values())
            for marking in self._store.live_markings():
                known.setdefault(marking, PartState(floor, stamp, marking))
            if most is not None and end - floor > most:
                return False
            self._apply_log(known, end, stamp)
        current = {m: self._parts.index(m) for m in self._parts_now()}
        for index in current.values():
            index.reload()  # parts another process moved on: their searchers see it now
        self._current, self._current_at = current, generation
        return True

    def _apply_log(self, states: dict[Marking, PartState], end: int, stamp: str) -> None:
        """Each part behind `end` re-reads the passages logged since its own position."""
        for since in sorted({s.seq for s in states.values() if s.seq < end}):
            changed = self._store.keyword_changes(since, end)
            texts: list[KeywordText] = self._store.keyword_texts(changed) if changed else []
            for marking, state in sorted(states.items()):
                if state.seq == since:
                    self._parts.apply(marking, changed, texts, end, stamp)

    def _parts_now(self) -> list[Marking]:
        states = self._parts.states() or {}
        return sorted(m for m, s in states.items() if s is not None)

    def _try_catch_up(self, generation: int, most: int | None) -> bool | None:
        """As `_catch_up`, holding the index against other processes; None when another
        process is changing it; damaged files are discarded (False: the caller rebuilds).
        Caller holds the lock."""
        try:
            with self._parts.exclusive():
                try:
                    return self._catch_up(generation, most)
                except (OSError, ValueError) as exc:
                    if _busy(exc):
                        return None
                    log.warning(
                        "keyword index at %s unusable (%s): rebuilding", self._parts.folder, exc
                    )
                    self._discard()
                    return False
        except PartsBusyError:
            return None

    def _build_in_background(self) -> None:
        generation = self._store.generation()
        try:
            with self._lock, self._parts.exclusive():
                self._catch_up(generation, None)
        except Exception as exc:
            if _busy(exc):
                log.info("keyword index: another process is writing it")
            else:
                log.exception("building the keyword index in the background failed")
                self._failed_at = generation

    def _discard(self) -> None:
        self._current, self._current_at = None, None
        self._parts.discard()

    def refresh(self) -> bool:
        """Bring the index current now if that is quick, else start a background catch-up;
        whether it is current (a server calls this at start, not at its first search)."""
        return self._ready() is not None

    def prepare(self) -> bool:
        """Bring the index to the store's present state now, however long that takes (a
        build at a million passages: about two minutes on two cores); damaged files are
        rebuilt. False if another process is writing it: whoever searches next catches up."""
        self.wait()
        with self._lock:
            generation = self._store.generation()
            caught_up = self._try_catch_up(generation, None)
            if caught_up is None:
                return False
            if not caught_up:  # its files were damaged and are gone
                return self._try_catch_up(generation, None) is not None
        return True

    def rebuild(self) -> None:
        """Build the index afresh from the store, whatever its files hold (`kb reindex`);
        waits for another process changing it."""
        self.wait()
        with self._lock, self._parts.exclusive(wait=True):
            self._discard()
            self._catch_up(self._store.generation(), None)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a background build to end; False if it is still running."""
        builder = self._builder
        if builder is not None:
            builder.join(timeout)
        return builder is None or not builder.is_alive()


def _boosts(clauses: Sequence[Clause], searchers: Sequence[tantivy.Searcher]) -> list[list[float]]:
    """Per part, per clause, the factor that turns the part's IDF into the one over all the
    parts searched: scores of several parts on one scale, computed from those parts alone."""
    totals = [s.doc_freq(EVERY, EVERY_TERM) for s in searchers]
    everyone = sum(totals)
    holding = [
        [[s.doc_freq(FIELD, token) for token in clause.tokens] for clause in clauses]
        for s in searchers
    ]
    boosts: list[list[float]] = []
    for n, part in enumerate(holding):
        row: list[float] = []
        for c, counts in enumerate(part):
            own = sum(idf(totals[n], k) for k in counts)
            shared = sum(
                idf(everyone, sum(other[c][t] for other in holding)) for t in range(len(counts))
            )
            row.append(shared / own if own > 0 else 1.0)
        boosts.append(row)
    return boosts


def _query(
    schema: tantivy.Schema,
    clauses: Sequence[Clause],
    boosts: Sequence[float] | None,
    within: list[int] | None,
) -> tantivy.Query:
    parts: list[tantivy.Query] = []
    for n, clause in enumerate(clauses):
        query = clause.query(schema)
        if boosts is not None:
            query = tantivy.Query.boost_query(query, boosts[n])
        parts.append(query)
    query = tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in parts])
    if within is None:
        return query
    # A filter, not a clause that scores: a matching term set would add 1 to every score, and
    # whether a reader's search is filtered depends on what else the store holds.
    allowed = tantivy.Query.const_score_query(
        tantivy.Query.term_set_query(schema, "cid", within), 0.0
    )
    return tantivy.Query.boolean_query([(tantivy.Occur.Must, query), (tantivy.Occur.Must, allowed)])
