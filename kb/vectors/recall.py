"""How much of the exact top-k the vector index finds: stored vectors as queries, the exact
answer computed from the stored (float32) vectors themselves, a batch at a time."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kb.store.protocol import Store
from kb.vectors.index import VectorIndex

BATCH = 50_000


@dataclass(frozen=True)
class Recall:
    """recall@k of the index against exact search over `queries` stored vectors."""

    kind: str
    k: int
    queries: int
    recall: float


def measure_recall(index: VectorIndex, store: Store, queries: int = 200, k: int = 10) -> Recall:
    ids = store.vector_ids()
    picked = np.sort(np.random.default_rng(0).permutation(len(ids))[:queries])
    if not len(picked):
        return Recall(index.kind, k, 0, 1.0)
    _, asked = store.vectors_of(ids[picked].tolist())
    kth = _kth_best_scores(store, ids, asked, k)
    _, found = index.search(asked, k)
    # A hit is any found passage scoring at least the exact k-th best (computed from the
    # stored vector, not the index's quantised one): ties between equal passages count.
    hits = 0
    for row, chunk_ids in enumerate(found):
        kept = chunk_ids[chunk_ids >= 0]
        if not len(kept):
            continue
        _, vectors = store.vectors_of(kept.tolist())
        hits += int(np.sum(vectors @ asked[row] >= kth[row] - 1e-5))
    wanted = min(k, len(ids)) * len(asked)
    return Recall(index.kind, k, len(asked), hits / wanted)


def _kth_best_scores(store: Store, ids: np.ndarray, asked: np.ndarray, k: int) -> np.ndarray:
    """The exact k-th best score for each query, over every stored vector."""
    best = np.full((len(asked), 0), -np.inf, np.float32)
    for start in range(0, len(ids), BATCH):
        _, vectors = store.vectors_of(ids[start : start + BATCH].tolist())
        scores = np.concatenate([best, asked @ vectors.T], axis=1)
        keep = min(k, scores.shape[1])
        best = -np.partition(-scores, keep - 1, axis=1)[:, :keep]
    return np.asarray(best.min(axis=1), np.float32)
