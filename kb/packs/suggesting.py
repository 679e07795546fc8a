"""Suggest a reading pack from a theme: items that cover the theme's aspects and spread over
regions, decades, document types and peace processes, each with why it was picked.

Candidates come from the real search (hybrid, the theme and each of its aspects); a greedy
selection then takes, at each step, the candidate that adds most (relevance, a new region,
decade or type, aspects not yet answered), never a second item of a process already in the
pack while another process remains, unless it answers a part of the theme nothing answers yet.
Documents linked by relations, or naming the same parties or the same countries, are one
process: ten protocols of one peace process teach one lesson.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from kb.access import Viewer
from kb.errors import InvalidRequestError
from kb.keywords.query import check_query
from kb.models import DOC_TYPES, Filters, Precedent, Relation, SearchRequest, SearchResponse
from kb.search.aspects import MAX_ASPECTS, split_aspects
from kb.settings import Settings
from kb.store.protocol import Store

Order = Literal["relevance", "chronological", "type"]
ORDERS: tuple[Order, ...] = ("relevance", "chronological", "type")
MAX_SUGGESTIONS = 50
# Metadata keys read for each dimension, ours first, then PA-X's (stored as they come).
REGION_KEYS = ("region", "Reg")
PROCESS_KEYS = ("peace_process", "process", "PPName")
PARTY_KEYS = ("parties",)
COUNTRY_KEYS = ("countries", "Con")
# What each step of the greedy selection adds, beside relevance scaled to [0, 1].
WEIGHTS = {"region": 0.35, "decade": 0.25, "type": 0.25, "aspects": 0.5}
ARTICLES = {
    "agreement": "an agreement",
    "evaluation": "an evaluation",
    "lessons-learned": "a lessons-learned report",
}
THEME_PARTS = re.compile(r"\s*[;,\n]\s*")


@dataclass(frozen=True)
class Candidate:
    """A document the search found for the theme, with what it would add to a pack."""

    precedent: Precedent
    rank: int
    relevance: float  # scaled to [0, 1] over the candidates
    region: str | None
    decade: int | None
    doc_type: str
    process: str
    aspects: tuple[str, ...]


@dataclass(frozen=True)
class SuggestedItem:
    """One proposed item: the document's best passage and why it was picked."""

    document_id: str
    chunk_id: int | None
    title: str
    doc_type: str
    date: str | None
    region: str | None
    page_start: int | None
    page_end: int | None
    why: str
    score: float
    aspects: tuple[str, ...] = ()
    process: str = ""


@dataclass(frozen=True)
class PackSuggestion:
    theme: str
    order: Order
    items: tuple[SuggestedItem, ...]
    aspects: tuple[str, ...] = field(default=())


SearchBatch = Callable[[Sequence[SearchRequest], Viewer | None], list[SearchResponse]]


class PackSuggesting:
    """Suggests packs from what `search_batch` finds for a viewer (the knowledge base's search,
    so a suggestion sees exactly what a search would)."""

    def __init__(self, store: Store, settings: Settings, search_batch: SearchBatch) -> None:
        self.store = store
        self.settings = settings
        self._search_batch = search_batch

    def suggest_pack(
        self,
        theme: str,
        filters: Filters | None = None,
        limit: int = 10,
        order: str = "relevance",
        viewer: Viewer | None = None,
    ) -> PackSuggestion:
        """Up to `limit` items for a theme among the documents the viewer may see (and the
        filters let through), diverse and each with a `why`, in the trainer's `order`."""
        theme = " ".join(check_query(theme, self.settings.max_query_chars, "theme").split())
        if not 1 <= limit <= MAX_SUGGESTIONS:
            raise InvalidRequestError(f"limit must be between 1 and {MAX_SUGGESTIONS}")
        if order not in ORDERS:
            raise InvalidRequestError(f"order must be one of {', '.join(ORDERS)}, not {order!r}")
        aspects = theme_aspects(theme)
        pool = min(100, max(4 * limit, 30))
        requests = [
            SearchRequest(query=q, filters=filters or Filters(), limit=pool if n == 0 else 25)
            for n, q in enumerate((theme, *aspects))
        ]
        responses = self._search_batch(requests, viewer)
        # A theme of one piece is its own single aspect: its closest documents answer it.
        depth = max(3, -(-limit // max(1, len(aspects))))
        if aspects:
            answered = _answered(aspects, responses[1:], depth)
        else:
            answered = _answered((theme,), responses[:1], depth)
        found = _merged(responses)
        if not found:
            return PackSuggestion(theme, order, (), aspects)
        links = {p.document_id: self.store.relations_of(p.document_id) for p in found}
        processes = group_processes([(p.document_id, p.metadata) for p in found], links)
        candidates = _candidates(found, answered, processes)
        picked = select(candidates, limit)
        items = [_item(c, why(c, before)) for c, before in picked]
        return PackSuggestion(theme, order, tuple(arrange(items, order)), aspects)


def theme_aspects(theme: str) -> tuple[str, ...]:
    """A brief's sentences (as search splits it) or a short theme's comma- or semicolon-
    separated parts; () for a theme of one piece."""
    sentences = split_aspects(theme, min_words=8)
    if sentences:
        return sentences
    parts = [p for p in THEME_PARTS.split(theme) if p.strip()]
    return tuple(parts[:MAX_ASPECTS]) if len(parts) > 1 else ()


def _answered(
    aspects: tuple[str, ...], responses: list[SearchResponse], depth: int
) -> dict[str, list[str]]:
    """For each document, the aspects that rank it among their top `depth` documents (enough
    for each aspect to fill its share of the pack), the one it ranks highest for first."""
    ranked: dict[str, list[tuple[int, str]]] = {}
    for aspect, response in zip(aspects, responses, strict=True):
        for rank, precedent in enumerate(response.results[:depth]):
            ranked.setdefault(precedent.document_id, []).append((rank, aspect))
    return {d: [a for _, a in sorted(found)] for d, found in ranked.items()}


def _merged(responses: list[SearchResponse]) -> list[Precedent]:
    """The theme's results, then those found only by an aspect, each document once."""
    seen: dict[str, Precedent] = {}
    for response in responses:
        for precedent in response.results:
            seen.setdefault(precedent.document_id, precedent)
    return list(seen.values())


def group_processes(
    documents: Sequence[tuple[str, Mapping[str, Any]]], links: Mapping[str, list[Relation]]
) -> dict[str, str]:
    """Each document's process: the smallest id of its group, where (document_id, metadata)
    pairs are grouped by a shared process name, party set or country set, or a link between
    two of them (links to other documents are not followed: they may be hidden from the
    viewer)."""
    parent = {document_id: document_id for document_id, _ in documents}

    def root(document_id: str) -> str:
        while parent[document_id] != document_id:
            parent[document_id] = parent[parent[document_id]]
            document_id = parent[document_id]
        return document_id

    def join(a: str, b: str) -> None:
        first, second = sorted((root(a), root(b)))
        parent[second] = first

    by_key: dict[tuple[str, str], str] = {}
    for document_id, metadata in documents:
        for key in _process_keys(metadata):
            if key in by_key:
                join(by_key[key], document_id)
            else:
                by_key[key] = document_id
        for relation in links.get(document_id, []):
            if relation.document_id in parent:
                join(document_id, relation.document_id)
    return {d: root(d) for d in parent}


def _process_keys(metadata: Mapping[str, Any]) -> list[tuple[str, str]]:
    keys = []
    for kind, names in (("process", PROCESS_KEYS), ("parties", PARTY_KEYS)):
        for name in names:
            if value := _normal_set(metadata.get(name)):
                keys.append((kind, value))
    for name in COUNTRY_KEYS:
        if value := _normal_set(metadata.get(name)):
            keys.append(("countries", value))
    return keys


def _normal_set(value: Any) -> str:
    """A value or list of values as one comparable text ('' for none); PA-X joins several
    countries with '/'."""
    if isinstance(value, str):
        items = value.split("/")
    elif isinstance(value, list | tuple):
        items = [str(v) for v in value]
    else:
        return ""
    return "|".join(sorted({" ".join(v.lower().split()) for v in items if v.strip()}))


def _candidates(
    found: list[Precedent], answered: Mapping[str, list[str]], processes: Mapping[str, str]
) -> list[Candidate]:
    top, bottom = found[0].score, min(p.score for p in found)
    span = (top - bottom) or 1.0
    return [
        Candidate(
            precedent=p,
            rank=n,
            relevance=min(1.0, max(0.0, (p.score - bottom) / span)),
            region=region_of(p.metadata),
            decade=decade_of(p.date, p.metadata),
            doc_type=p.doc_type,
            process=processes[p.document_id],
            aspects=tuple(answered.get(p.document_id, ())),
        )
        for n, p in enumerate(found)
    ]


def region_of(metadata: Mapping[str, Any]) -> str | None:
    for key in REGION_KEYS:
        value = metadata.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def decade_of(date: str | None, metadata: Mapping[str, Any]) -> int | None:
    for value in (date, metadata.get("year")):
        match = re.match(r"\s*(\d{4})", str(value or ""))
        if match:
            return int(match.group(1)) // 10 * 10
    return None


@dataclass(frozen=True)
class Covered:
    """What the items picked so far cover."""

    regions: frozenset[str] = frozenset()
    decades: frozenset[int] = frozenset()
    types: frozenset[str] = frozenset()
    processes: frozenset[str] = frozenset()
    aspects: frozenset[str] = frozenset()

    def add(self, c: Candidate) -> Covered:
        return replace(
            self,
            regions=self.regions | ({c.region.lower()} if c.region else set()),
            decades=self.decades | ({c.decade} if c.decade is not None else set()),
            types=self.types | {c.doc_type},
            processes=self.processes | {c.process},
            aspects=self.aspects | set(c.aspects),
        )


def gain(c: Candidate, covered: Covered, aspect_count: int) -> float:
    new_aspects = len(set(c.aspects) - covered.aspects)
    return (
        c.relevance
        + WEIGHTS["region"] * bool(c.region and c.region.lower() not in covered.regions)
        + WEIGHTS["decade"] * bool(c.decade is not None and c.decade not in covered.decades)
        + WEIGHTS["type"] * (c.doc_type not in covered.types)
        + WEIGHTS["aspects"] * (new_aspects / aspect_count if aspect_count else 0.0)
    )


def select(candidates: list[Candidate], limit: int) -> list[tuple[Candidate, Covered]]:
    """Greedy: each step takes, of the candidates that bring a process not yet picked or a
    part of the theme not yet answered (any, once none does), the one that adds most; returns
    each pick with what was covered before it. Answering the theme comes before spreading."""
    aspect_count = len({a for c in candidates for a in c.aspects})
    covered = Covered()
    remaining = list(candidates)
    picked: list[tuple[Candidate, Covered]] = []
    while remaining and len(picked) < limit:
        fresh = [
            c
            for c in remaining
            if c.process not in covered.processes or set(c.aspects) - covered.aspects
        ] or remaining
        best = max(fresh, key=lambda c: (gain(c, covered, aspect_count), -c.rank))
        picked.append((best, covered))
        covered = covered.add(best)
        remaining.remove(best)
    return picked


def why(c: Candidate, before: Covered) -> str:
    """A sentence a trainer can read: what the item answers, what it adds, what it is."""
    parts = []
    new = [a for a in c.aspects if a not in before.aspects] or list(c.aspects)
    if new:
        parts.append("Answers " + _and([f"'{_short(a)}'" for a in new[:3]]))
    elif c.rank == 0:
        parts.append("The closest match to the theme")
    else:
        parts.append(f"Matches the theme (search rank {c.rank + 1})")
    adds = []
    if c.region and c.region.lower() not in before.regions:
        adds.append(c.region)
    if c.decade is not None and c.decade not in before.decades:
        adds.append(f"the {c.decade}s")
    if adds:
        parts.append("adds " + _and(adds))
    parts.append(ARTICLES.get(c.doc_type, "a document"))
    return "; ".join(parts) + "."


def _short(text: str, most: int = 60) -> str:
    return text if len(text) <= most else text[: most - 1].rsplit(" ", 1)[0] + "…"


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _item(c: Candidate, reason: str) -> SuggestedItem:
    p = c.precedent
    best = p.passages[0] if p.passages else None
    return SuggestedItem(
        document_id=p.document_id,
        chunk_id=best.chunk_id if best else None,
        title=p.title,
        doc_type=p.doc_type,
        date=p.date,
        region=c.region,
        page_start=best.page_start if best else None,
        page_end=best.page_end if best else None,
        why=reason,
        score=p.score,
        aspects=c.aspects,
        process=c.process,
    )


def arrange(items: list[SuggestedItem], order: str) -> list[SuggestedItem]:
    """The trainer's order: by relevance (search score), chronological (undated last) or by
    type (agreements, evaluations, lessons, other; then by date)."""
    if order == "chronological":
        return sorted(items, key=lambda i: (i.date is None, i.date or "", -i.score))
    if order == "type":
        rank = {t: n for n, t in enumerate(DOC_TYPES)}
        return sorted(
            items, key=lambda i: (rank.get(i.doc_type, len(rank)), i.date is None, i.date or "")
        )
    return sorted(items, key=lambda i: -i.score)
