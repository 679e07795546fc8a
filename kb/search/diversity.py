"""Diversity: maximal marginal relevance over documents.

Ten protocols of one peace process can outscore the one agreement from elsewhere that a
negotiator most needs to see. MMR re-orders the head of the ranking so each next document is
relevant and unlike those already shown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt


def mmr(
    ranked: Sequence[str],
    relevance: Mapping[str, float],
    vectors: Mapping[str, npt.NDArray[np.float32]],
    diversity: float,
) -> list[tuple[str, float]]:
    """`ranked` re-ordered by λ·relevance − (1 − λ)·(highest cosine to a document already
    chosen), with λ = 1 − diversity and relevance scaled to [0, 1], each with that gain when
    it was chosen (gains never rise: a later pick cannot beat an earlier one). Documents
    without a vector keep their relevance alone."""
    if diversity <= 0 or len(ranked) < 3:
        return [(d, relevance[d]) for d in ranked]
    scores = np.array([relevance[d] for d in ranked], dtype=np.float64)
    spread = float(scores.max() - scores.min()) or 1.0
    scaled = (scores - scores.min()) / spread
    dimension = next((len(v) for v in vectors.values()), 0)
    matrix = np.array(
        [vectors.get(d, np.zeros(dimension, np.float32)) for d in ranked], dtype=np.float32
    )
    remaining = list(range(len(ranked)))
    closest = np.zeros(len(ranked), dtype=np.float64)
    chosen: list[tuple[int, float]] = []
    while remaining:
        gains = (1 - diversity) * scaled[remaining] - diversity * closest[remaining]
        best = int(np.argmax(gains))
        pick = remaining[best]
        chosen.append((pick, float(gains[best])))
        remaining.remove(pick)
        if dimension:
            closest = np.maximum(closest, matrix @ matrix[pick])
    return [(ranked[i], gain) for i, gain in chosen]
