"""Which passages a filtered dense search may return, kept per store generation.

Every request over HTTP carries a viewer, so every dense search there is filtered. At a
million passages, reading the viewer's passage ids from SQLite and turning them into a FAISS
selector costs more than the search itself: the ids are kept per (generation, filters) here,
and the index keeps the selector made from them under the same key.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass

import numpy as np

from kb.models import Filters
from kb.store.generation_cache import GenerationCache
from kb.store.protocol import Ids, Store

KEPT = 8  # filter sets kept at once; at a million passages one is up to 8 MB of ids


@dataclass(frozen=True)
class Allowed:
    """The passage ids a search may return, and a key naming this set for caches."""

    ids: Ids
    key: Hashable
    # By chunk id, True where allowed: keyword search keeps its matches with it instead of
    # joining every match to its document in SQL (a byte a passage: 1 MB at a million).
    mask: np.ndarray

    @classmethod
    def of(cls, ids: Ids, key: Hashable) -> Allowed:
        mask = np.zeros(int(ids.max()) + 1 if len(ids) else 0, dtype=bool)
        mask[ids] = True
        return cls(ids, key, mask)

    def keep(self, hits: list[tuple[int, float]], most: int) -> list[tuple[int, float]]:
        """The first `most` hits whose chunk ids are allowed, in their order."""
        mask, size = self.mask, len(self.mask)
        return [h for h in hits if h[0] < size and mask[h[0]]][:most]


class AllowedSets:
    """Allowed passage sets by filters, for the store's current generation."""

    def __init__(self, store: Store, live_passages: Callable[[], int]) -> None:
        self._store = store
        self._live = live_passages  # how many passages the vector index holds now
        self._kept: GenerationCache[Allowed | None] = GenerationCache(KEPT)

    def get(self, filters: Filters) -> Allowed | None:
        """The set to search within; None when nothing is filtered out (the fast path)."""
        if filters.is_empty():
            return None
        generation = self._store.generation()
        key = (generation, filter_key(filters))

        def make() -> Allowed | None:
            ids = self._store.filtered_chunk_ids(filters)
            # A viewer who may see every live passage, under no other filter, needs no selector.
            return None if len(ids) == self._live() else Allowed.of(ids, key)

        return self._kept.get(generation, key, make)


def filter_key(filters: Filters) -> Hashable:
    """Filters as a hashable value; a viewer counts by what they may see, not by name."""
    viewer = filters.viewer
    return (
        tuple(sorted(filters.doc_types)),
        _items(filters.equals),
        tuple(sorted(filters.ranges.items())),
        filters.date_from,
        filters.date_to,
        _items(filters.related),
        None if viewer is None else (viewer.rank, tuple(sorted(viewer.groups))),
    )


def _items(values: Mapping[str, tuple[str, ...]]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple(sorted((k, tuple(sorted(v))) for k, v in values.items()))
