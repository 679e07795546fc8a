"""From a query to ranked precedents: candidates, fusion, documents, passages."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from functools import partial

import numpy as np

from kb.access import Viewer, sight_of
from kb.embedding.embedder import Embedder
from kb.errors import InvalidRequestError, NotFoundError
from kb.keywords.index import KeywordIndex
from kb.keywords.query import ParsedQuery, check_query, parse_query
from kb.keywords.selectivity import Selectivity, run_plan
from kb.metadata.filter_keys import FilterKeys
from kb.models import (
    MODES,
    Filters,
    Passage,
    Precedent,
    SearchRequest,
    SearchResponse,
    Suggestion,
)
from kb.search.aspects import split_aspects
from kb.search.diversity import mmr
from kb.search.fanout import Fanout
from kb.search.fusion import (
    Ranking,
    Scores,
    best_scores,
    combine_aspects,
    reciprocal_rank_fusion,
    score_fusion,
)
from kb.search.owners import ChunkOwners
from kb.search.reranker import Reranker
from kb.search.snippet import make_snippet, matched_terms
from kb.search.suggestions import MAX_VALUE_CHARS, Vocabulary, build_vocabulary, satisfies, suggest
from kb.settings import Settings
from kb.store.allowed import Allowed, AllowedSets
from kb.store.generation_cache import GenerationCache
from kb.store.protocol import Store, Vectors
from kb.vectors.index import VECTORS_KEY, VectorIndex

MAX_LIMIT = 100
MAX_OFFSET = 2**31 - 1  # far past any page anyone reads; a bigger one is refused, not run
VOCABULARIES_KEPT = 64  # kinds of viewer (clearance, groups) whose vocabulary is kept
ASPECT_TOP = 10  # a document "answers" an aspect it is among the top ten for


class Searcher:
    """Hybrid retrieval over one store, its vector index and the embedding model."""

    def __init__(
        self,
        store: Store,
        index: Callable[[], VectorIndex],
        embedder: Embedder,
        settings: Settings,
        filter_keys: FilterKeys,
    ) -> None:
        self._store = store
        self._index = index
        self._embedder = embedder
        self._settings = settings
        self._filter_keys = filter_keys
        # Per store generation and per what a viewer may see: a suggestion must never name a
        # value found only in documents hidden from the one asking.
        self._vocabularies: GenerationCache[Vocabulary] = GenerationCache(VOCABULARIES_KEPT)
        self.reranker = Reranker(settings.reranker, settings.device) if settings.reranker else None
        self._allowed_sets = AllowedSets(store, lambda: len(self._index()))
        self._owners = ChunkOwners(store)
        self.selectivity = Selectivity(store, settings)
        self.keywords = (
            KeywordIndex(store, settings, lambda: store.get_meta(VECTORS_KEY) or "")
            if settings.keyword_engine == "tantivy"
            else None
        )
        self._fanout = Fanout(settings.readers)

    def close(self) -> None:
        self._fanout.close()

    def search(self, request: SearchRequest) -> SearchResponse:
        return self.search_batch([request])[0]

    def search_batch(self, requests: Sequence[SearchRequest]) -> list[SearchResponse]:
        for request in requests:  # all refused before any work is done for one
            validate(request, self._settings.max_query_chars)
            self._filter_keys.check(request.filters)
        # One model call embeds every query that needs a vector.
        dense = [i for i, r in enumerate(requests) if r.mode != "keyword"]
        vectors = (
            self._embedder.encode_queries([requests[i].query for i in dense]) if dense else None
        )
        by_position = {i: vectors[n] for n, i in enumerate(dense)} if vectors is not None else {}
        return [self._search_one(r, by_position.get(i)) for i, r in enumerate(requests)]

    def _search_one(self, request: SearchRequest, vector: Vectors | None) -> SearchResponse:
        parsed = parse_query(request.query)
        aspects = split_aspects(request.query, self._settings.aspect_min_words)
        # The aspects get a model call of their own: embedded beside the whole brief, int8's
        # scales (set per batch) move them enough to cost 0.002 nDCG@10 on pax-dev's briefs.
        vectors: list[Vectors | None] = [vector] + [None] * len(aspects)
        if vector is not None and aspects:
            vectors[1:] = list(self._embedder.encode_queries(list(aspects)))
        # The filter's chunk set is computed once and shared by the whole query and its aspects.
        # Dense search needs it; so does tantivy, whose index knows no metadata.
        wanted = request.mode != "keyword" or self.keywords is not None
        allowed = self._allowed(request.filters) if wanted else None
        # The whole text and each aspect are searched side by side (kb.search.fanout).
        queries = [parsed, *(parse_query(a) for a in aspects)]
        held: list[bool] = []  # set by a keyword search that had no ranking to give
        scored = self._fanout.run(
            [
                partial(self._candidates, request, query, vectors[n], allowed, held)
                for n, query in enumerate(queries)
            ]
        )
        scores = scored[0]
        notices = []
        if held:
            reason = (
                "keyword matching is left out until the keyword index is current (it is being "
                "built)"
                if self.keywords is not None
                else "keyword matching is not offered to signed-in users on this server (its "
                "keyword engine would count documents a user may not see)"
            )
            notices.append(
                f"{reason}: these results are by meaning only"
                if request.mode == "hybrid"
                else f"{reason}: search by meaning instead"
            )
        if vector is not None and (pieces := self._embedder.count_pieces(request.query)) > 1:
            notices.append(f"long query embedded in {pieces} pieces and combined")
        answered: dict[str, tuple[str, ...]] = {}
        if aspects:
            per_aspect = scored[1:]
            scores = combine_aspects(scores, per_aspect, self._settings.aspect_weight)
            answered = _answered(aspects, per_aspect)
            notices.append(f"brief searched as a whole and as {len(aspects)} aspects")
        if self.reranker is not None:
            scores = self._rerank(request.query, scores)
        suggestions = suggest(request.query, self._current_vocabulary(request.filters.viewer))
        results = self._precedents(
            *scores, parsed.highlight_terms, request.limit, request.offset, suggestions, answered
        )
        return SearchResponse(
            query=request.query,
            mode=request.mode,
            total=len(scores[0]),
            results=tuple(results),
            notices=tuple(notices),
            suggestions=suggestions,
        )

    def _candidates(
        self,
        request: SearchRequest,
        parsed: ParsedQuery,
        vector: Vectors | None,
        allowed: Allowed | None,
        held: list[bool],
    ) -> Scores:
        """Document and passage scores for one text, by the request's mode."""
        rankings: list[Ranking] = []
        if vector is not None:
            rankings.append(self._dense(vector, allowed))
        if request.mode != "dense":
            rankings.append(self._keyword(parsed, request.filters, allowed, held))
        if request.mode == "hybrid":
            return self._fuse(rankings)
        return self._best_scores(rankings[0])

    def _current_vocabulary(self, viewer: Viewer | None) -> Vocabulary:
        """The metadata vocabulary of what the viewer may see, rebuilt when the store changed."""
        return self._vocabularies.get(
            self._store.generation(),
            sight_of(viewer),
            lambda: build_vocabulary(
                self._store.metadata_values(MAX_VALUE_CHARS, Filters(viewer=viewer))
            ),
        )

    def similar(
        self, document_id: str, filters: Filters, limit: int, offset: int = 0
    ) -> SearchResponse:
        """Documents whose passages lie closest to this document's mean passage vector."""
        self._filter_keys.check(filters)
        own = [c.chunk_id for c in self._store.chunks_of(document_id)]
        if not own:
            raise NotFoundError(f"no document {document_id!r}")
        _, vectors = self._store.vectors_of(own)
        centre = vectors.mean(axis=0, keepdims=True)
        centre /= max(float(np.linalg.norm(centre)), 1e-12)
        ranking = self._dense(centre[0], self._allowed(filters), extra=len(own))
        mine = set(own)
        kept = [
            (c, s) for c, s in zip(ranking.chunk_ids, ranking.scores, strict=True) if c not in mine
        ]
        doc_scores, chunk_scores = self._best_scores(
            Ranking(tuple(c for c, _ in kept), tuple(s for _, s in kept))
        )
        results = self._precedents(doc_scores, chunk_scores, (), limit, offset)
        return SearchResponse(
            query=f"similar:{document_id}",
            mode="dense",
            total=len(doc_scores),
            results=tuple(results),
        )

    # -- retrievers ---------------------------------------------------------------------

    def _allowed(self, filters: Filters) -> Allowed | None:
        """Chunk ids the dense search may return; None when nothing is filtered out."""
        return self._allowed_sets.get(filters)

    def _dense(self, vector: Vectors, allowed: Allowed | None, extra: int = 0) -> Ranking:
        scores, ids = self._index().search(
            vector[None, :],
            self._settings.candidates + extra,
            None if allowed is None else allowed.ids,
            None if allowed is None else allowed.key,
        )
        keep = ids[0] >= 0
        return Ranking(
            tuple(int(i) for i in ids[0][keep]), tuple(float(s) for s in scores[0][keep])
        )

    def _keyword(
        self, parsed: ParsedQuery, filters: Filters, allowed: Allowed | None, held: list[bool]
    ) -> Ranking:
        wanted, budget = self._settings.candidates, self._settings.keyword_max_rows
        if self.keywords is not None:
            found = self.keywords.search(parsed, wanted, allowed, filters.viewer)
            if found is not None:
                return Ranking(tuple(c for c, _ in found), tuple(s for _, s in found))
        if filters.viewer is not None:
            # The SQL ranking's statistics (FTS5's BM25, the words kb.keywords.selectivity keeps,
            # the
            # latest matches a bound scores) count every passage: it answers the store's owner
            # on the command line only, never a reader, whatever the store holds.
            held.append(True)
            return Ranking((), ())

        def search(expression: str) -> list[tuple[int, float]]:
            if allowed is not None:  # the filters' set is at hand: no join, no filter in SQL
                return allowed.keep(self._store.keyword_ranked(expression, budget), wanted)
            return self._store.keyword_search(expression, filters, wanted, budget)

        plan = self.selectivity.plan(parsed)
        hits = run_plan(plan, search, self._settings.candidates)
        return Ranking(tuple(c for c, _ in hits), tuple(s for _, s in hits))

    # -- fusion -------------------------------------------------------------------------

    def _chunk_documents(self, chunk_ids: Sequence[int]) -> dict[int, str]:
        # Owners only: the passages' texts are read later, for the page shown.
        return self._owners.of(list(chunk_ids), self._index().stamp)

    def _fuse(self, rankings: list[Ranking]) -> Scores:
        owner = self._chunk_documents([c for r in rankings for c in r.chunk_ids])
        if self._settings.fusion == "rrf":
            return reciprocal_rank_fusion(rankings, owner, self._settings.rrf_k)
        weight = self._settings.dense_weight
        return score_fusion(rankings, owner, (weight, 1.0 - weight))

    def _best_scores(self, ranking: Ranking) -> Scores:
        return best_scores(ranking, self._chunk_documents(ranking.chunk_ids))

    # -- results ------------------------------------------------------------------------

    def _rerank(self, query: str, scores: Scores) -> Scores:
        """The cross-encoder re-orders the head, reading each document's best passage; the
        head keeps its old score range so scores still fall down the list."""
        assert self.reranker is not None
        doc_scores, chunk_scores = scores
        order = sorted(doc_scores, key=lambda d: (-doc_scores[d], d))
        head = order[: self._settings.rerank_depth]
        if len(head) < 2:
            return scores
        passages = _passages_by_document(chunk_scores, self._chunk_documents(list(chunk_scores)))
        chunks = self._store.chunks_by_id([p[0] for p in passages.values()])
        texts = [chunks[p[0]].text if (p := passages[d]) and p[0] in chunks else "" for d in head]
        judged = dict(zip(head, self.reranker.score(query, texts), strict=True))
        return _rescale(judged, doc_scores, head), chunk_scores

    def _diversify(
        self, order: list[str], doc_scores: dict[str, float], owner: Mapping[int, str]
    ) -> tuple[list[str], dict[str, float]]:
        """MMR over the head of the ranking, documents compared by their passages' mean vector.

        The head's scores become its MMR gains mapped onto the head's old score range, so
        scores still fall down the list and the tail is untouched."""
        head = order[: self._settings.diversity_depth]
        if len(head) < 3:
            return order, doc_scores
        wanted = set(head)
        mine = [c for c, document_id in owner.items() if document_id in wanted]
        sums: dict[str, Vectors] = {}
        if mine:
            ids, vectors = self._store.vectors_of(mine)
            for chunk_id, vector in zip(ids.tolist(), vectors, strict=True):
                document_id = owner[chunk_id]
                sums[document_id] = sums.get(document_id, 0) + vector
        centres = {d: v / max(float(np.linalg.norm(v)), 1e-12) for d, v in sums.items()}
        picked = mmr(head, doc_scores, centres, self._settings.diversity)
        rescored = _rescale(dict(picked), doc_scores, head)
        return [d for d, _ in picked] + order[len(head) :], rescored

    def _precedents(
        self,
        doc_scores: dict[str, float],
        chunk_scores: dict[int, float],
        terms: tuple[str, ...],
        limit: int,
        offset: int,
        suggestions: tuple[Suggestion, ...] = (),
        answered: Mapping[str, tuple[str, ...]] | None = None,
    ) -> list[Precedent]:
        owner = self._chunk_documents(list(chunk_scores))  # once: MMR and passages share it
        order = sorted(doc_scores, key=lambda d: (-doc_scores[d], d))
        if self._settings.diversity > 0:
            order, doc_scores = self._diversify(order, doc_scores, owner)
        page = [(d, doc_scores[d]) for d in order[offset : offset + limit]]
        if not page:
            return []
        by_document = _passages_by_document(chunk_scores, owner)
        shown = {d: by_document[d][: self._settings.passages_per_result] for d, _ in page}
        # Texts only for the passages shown: candidates run to hundreds, a page to a few dozen.
        chunks = self._store.chunks_by_id([c for best in shown.values() for c in best])
        documents = self._store.documents_by_id([d for d, _ in page])
        results = []
        for document_id, score in page:
            document = documents.get(document_id)
            best = [c for c in shown[document_id] if c in chunks]
            if document is None or not best:
                continue  # deleted while this search ran
            passages = tuple(
                Passage(
                    chunk_id=c,
                    text=chunks[c].text,
                    heading=chunks[c].heading,
                    page_start=chunks[c].page_start,
                    page_end=chunks[c].page_end,
                    snippet=make_snippet(chunks[c].text, terms),
                    score=chunk_scores[c],
                    ocr=chunks[c].ocr,
                )
                for c in best
            )
            results.append(
                Precedent(
                    document_id=document_id,
                    title=document.title,
                    doc_type=document.doc_type,
                    date=document.date,
                    score=score,
                    metadata=document.metadata,
                    passages=passages,
                    matched_terms=matched_terms(
                        [document.title, *(p.text for p in passages)], terms
                    ),
                    matched_metadata=tuple(
                        s for s in suggestions if satisfies(document.metadata, s)
                    ),
                    aspects=(answered or {}).get(document_id, ()),
                )
            )
        return results


def _passages_by_document(
    chunk_scores: Mapping[int, float], owner: Mapping[int, str]
) -> defaultdict[str, list[int]]:
    """Each document's candidate passages, best first (passages deleted meanwhile left out)."""
    by_document: defaultdict[str, list[int]] = defaultdict(list)
    for chunk_id in sorted(chunk_scores, key=lambda c: -chunk_scores[c]):
        if chunk_id in owner:
            by_document[owner[chunk_id]].append(chunk_id)
    return by_document


def _rescale(
    new: Mapping[str, float], old: Mapping[str, float], head: list[str]
) -> dict[str, float]:
    """All scores, the head's replaced by `new` mapped onto the head's old range, so the head
    is ordered by `new` and still scores above the rest."""
    high, low = old[head[0]], old[head[-1]]
    floor = min(new.values())
    span = (max(new.values()) - floor) or 1.0
    rescored = dict(old)
    for document_id, value in new.items():
        rescored[document_id] = low + (value - floor) / span * (high - low)
    return rescored


def _answered(aspects: tuple[str, ...], per_aspect: list[Scores]) -> dict[str, tuple[str, ...]]:
    """For each document, the aspects that rank it among their top ASPECT_TOP documents."""
    found: dict[str, list[str]] = defaultdict(list)
    for aspect, (docs, _) in zip(aspects, per_aspect, strict=True):
        for document_id in sorted(docs, key=lambda d: -docs[d])[:ASPECT_TOP]:
            found[document_id].append(aspect)
    return {d: tuple(a) for d, a in found.items()}


def validate(request: SearchRequest, max_query_chars: int) -> None:
    if request.mode not in MODES:
        raise InvalidRequestError(f"mode must be one of {', '.join(MODES)}, not {request.mode!r}")
    check_query(request.query, max_query_chars)
    if not 1 <= request.limit <= MAX_LIMIT:
        raise InvalidRequestError(f"limit must be between 1 and {MAX_LIMIT}")
    if not 0 <= request.offset <= MAX_OFFSET:
        raise InvalidRequestError(f"offset must be between 0 and {MAX_OFFSET}")
