"""Combining ranked candidate lists into document and passage scores.

A precedent is a document, so each retriever's passages are first reduced to documents
(a document scores as its best passage); passages keep their own fused score to choose
what is shown.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

Scores = tuple[dict[str, float], dict[int, float]]
K = TypeVar("K", str, int)


@dataclass(frozen=True)
class Ranking:
    """Chunk ids in rank order with the retriever's own scores (higher is better)."""

    chunk_ids: tuple[int, ...]
    scores: tuple[float, ...]


def best_scores(ranking: Ranking, owner: Mapping[int, str]) -> Scores:
    """One retriever alone: a document scores as its best passage."""
    chunk_scores = {
        c: s for c, s in zip(ranking.chunk_ids, ranking.scores, strict=True) if c in owner
    }
    doc_scores: dict[str, float] = {}
    for chunk_id, score in chunk_scores.items():
        document_id = owner[chunk_id]
        doc_scores[document_id] = max(doc_scores.get(document_id, score), score)
    return doc_scores, chunk_scores


def reciprocal_rank_fusion(rankings: Sequence[Ranking], owner: Mapping[int, str], k: int) -> Scores:
    """Sum of 1 / (k + rank) over retrievers, ranks counted among documents."""
    doc_scores: dict[str, float] = defaultdict(float)
    chunk_scores: dict[int, float] = defaultdict(float)
    for ranking in rankings:
        seen: set[str] = set()
        for rank, chunk_id in enumerate(c for c in ranking.chunk_ids if c in owner):
            chunk_scores[chunk_id] += 1.0 / (k + rank + 1)
            document_id = owner[chunk_id]
            if document_id not in seen:
                seen.add(document_id)
                doc_scores[document_id] += 1.0 / (k + len(seen))
    return dict(doc_scores), dict(chunk_scores)


def score_fusion(
    rankings: Sequence[Ranking], owner: Mapping[int, str], weights: Sequence[float]
) -> Scores:
    """Weighted sum of each retriever's scores, standardised per query (z-scores).

    Cosine similarities and BM25 live on unrelated scales; standardising each list makes
    them comparable, and unlike rank fusion it keeps how far apart the candidates are. A
    candidate one retriever did not return gets that retriever's lowest standardised score.
    """
    doc_parts = []
    chunk_parts = []
    for ranking in rankings:
        docs, chunks = best_scores(ranking, owner)
        doc_parts.append(_standardise(docs))
        chunk_parts.append(_standardise(chunks))
    return _weighted(doc_parts, weights), _weighted(chunk_parts, weights)


def combine_aspects(whole: Scores, aspects: Sequence[Scores], weight: float) -> Scores:
    """The whole query's scores blended with the mean over its aspects, all standardised:
    (1 - weight) * whole + weight * mean(aspects). A candidate an aspect did not return gets
    that aspect's floor."""
    docs = [_standardise(whole[0]), *(_standardise(a[0]) for a in aspects)]
    chunks = [_standardise(whole[1]), *(_standardise(a[1]) for a in aspects)]
    share = weight / len(aspects)
    weights = [1.0 - weight, *([share] * len(aspects))]
    return _weighted(docs, weights), _weighted(chunks, weights)


def _standardise(scores: dict[K, float]) -> dict[K, float]:
    if not scores:
        return {}
    values = np.fromiter(scores.values(), dtype=np.float64)
    spread = float(values.std()) or 1.0
    mean = float(values.mean())
    return {key: (value - mean) / spread for key, value in scores.items()}


def _weighted(parts: list[dict[K, float]], weights: Sequence[float]) -> dict[K, float]:
    floors = [min(part.values(), default=0.0) for part in parts]
    keys = set().union(*parts)
    return {
        key: sum(
            w * part.get(key, floor) for part, w, floor in zip(parts, weights, floors, strict=True)
        )
        for key in keys
    }
