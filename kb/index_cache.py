"""The store's vector index cache: loaded, kept in step with writes, and rebuilt of the kind
the store's size calls for.

A small store gets the exact index; from `ann_threshold` passages on, HNSW. An HNSW index
takes minutes to build at a million passages, so it is built in a background thread from the
stored vectors while searches go on against the index already there (or, with none usable,
against an exact one built first, which takes seconds). When the build is done it is
brought up to the store's current state under the writer lock, saved, and swapped in. A crash
mid-build leaves the old cache files, or none: every file is written whole and renamed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import numpy as np

from kb.index import EXACT, HNSW, AnnParams, IndexKind, VectorIndex
from kb.lock import WriterLock
from kb.settings import Settings
from kb.store import Store, Vectors, WriteResult

log = logging.getLogger(__name__)

BUILD_BATCH = 50_000  # stored vectors read per step of a background build
TRAIN_SAMPLE = 50_000  # vectors the scalar quantiser learns its value ranges from


class IndexCache:
    """One store's index cache; thread-safe (the server's threads share it)."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        dimension: Callable[[], int],
        lock: threading.RLock,
        writer: WriterLock,
    ) -> None:
        self._store = store
        self._settings = settings
        self._dimension = dimension
        self._lock = lock  # the knowledge base's: writes hold it around store and index
        self._writer = writer
        self._params = AnnParams.of(settings)
        self._index: VectorIndex | None = None
        self._builder: threading.Thread | None = None
        self._failed_at: int | None = None  # generation at which a background build failed
        # Bumped by every foreground rebuild (as after a re-embed): a background build begun
        # before it read vectors that may since have changed under the same ids.
        self._epoch = 0

    def wanted(self, count: int) -> IndexKind:
        return HNSW if count >= self._settings.ann_threshold else EXACT

    def current(self) -> VectorIndex:
        """The index at the store's current generation: kept, loaded or rebuilt."""
        with self._lock:
            generation = self._store.generation()
            if self._index is not None and self._index.generation == generation:
                return self._index
            _, chunks, _ = self._store.counts()
            index = VectorIndex.load(
                self._settings.store, generation, self._dimension(), chunks, self._params
            )
            if index is None:
                # Exact first, which takes seconds; HNSW follows in the background if wanted.
                index = self.rebuild(generation, EXACT)
            self._index = index
            self._consider(index)
            return index

    def drop(self) -> None:
        with self._lock:
            self._index = None

    def rebuild(self, generation: int, kind: IndexKind | None = None) -> VectorIndex:
        """Build from every stored vector now, in this thread, and save it."""
        with self._lock:
            self._epoch += 1
        ids, vectors = self._store.all_vectors(self._dimension())
        chosen = kind or self.wanted(len(ids))
        index = VectorIndex(self._dimension(), generation, chosen, self._params)
        if chosen == HNSW:
            index.train(_sample(vectors, TRAIN_SAMPLE))
        index.add(ids, vectors)
        index.save(self._settings.store)
        log.info(
            "rebuilt the FAISS index from %d stored vectors (generation %d, %s)",
            len(ids),
            generation,
            chosen,
        )
        with self._lock:
            self._index = index
        return index

    def apply(self, result: WriteResult, vectors: Vectors | None) -> None:
        """Bring the cached index along with a write, or drop it if another writer came between."""
        with self._lock:
            index = self._index
            if index is None or index.generation != result.generation - 1:
                self._index = None
                return
            index.remove(result.removed)
            if vectors is not None:
                index.add(result.added, vectors)
            index.generation = result.generation
            index.save(self._settings.store)
            self._consider(index)

    def _consider(self, index: VectorIndex) -> None:
        """Start a background rebuild when the index is of the wrong kind for its size, or
        too much of it is masked."""
        wrong_kind = index.kind != self.wanted(len(index))
        if wrong_kind or index.dead_share > self._settings.ann_dead_share:
            self._start_build(index.generation)

    def _start_build(self, generation: int) -> None:
        if self._builder is not None and self._builder.is_alive():
            return
        if self._failed_at == generation:
            return  # tried at this state of the store already; the log says why it failed
        self._builder = threading.Thread(
            target=self._build_in_background, name="kb-index-build", daemon=True
        )
        self._builder.start()

    def building(self) -> bool:
        return self._builder is not None and self._builder.is_alive()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a background build to end; False if it is still running."""
        builder = self._builder
        if builder is not None:
            builder.join(timeout)
        return not self.building()

    def _build_in_background(self) -> None:
        generation, epoch = self._store.generation(), self._epoch
        try:
            built = self._build_from_store()
            self._swap_in(built, epoch)
        except Exception:
            log.exception("building the vector index in the background failed")
            self._failed_at = generation

    def _build_from_store(self) -> VectorIndex:
        """A fresh index of the wanted kind, the stored vectors read a batch at a time so
        that no second full copy of them sits in memory beside the index being built."""
        ids = self._store.vector_ids()
        kind = self.wanted(len(ids))
        index = VectorIndex(self._dimension(), 0, kind, self._params)
        log.info("building a %s index of %d vectors in the background", kind, len(ids))
        if kind == HNSW:
            picked = np.random.default_rng(0).permutation(len(ids))[:TRAIN_SAMPLE]
            _, sample = self._store.vectors_of(ids[np.sort(picked)].tolist())
            index.train(sample)
        for start in range(0, len(ids), BUILD_BATCH):
            got, vectors = self._store.vectors_of(ids[start : start + BUILD_BATCH].tolist())
            index.add(got, vectors)
        return index

    def _swap_in(self, built: VectorIndex, epoch: int) -> None:
        """Catch the new index up with writes made while it was built, save it, use it. The
        writer lock keeps writes out meanwhile; searches go on against the old index."""
        with self._writer.hold():
            if self._epoch != epoch:
                log.info("dropped a background index build: the index was rebuilt meanwhile")
                return
            generation = self._store.generation()
            stored, held = self._store.vector_ids(), built.ids()
            missing = np.setdiff1d(stored, held)
            if len(missing):
                got, vectors = self._store.vectors_of(missing.tolist())
                built.add(got, vectors)
            built.remove(np.setdiff1d(held, stored))
            built.generation = generation
            built.save(self._settings.store)
            with self._lock:
                self._index = built
        log.info("swapped in the %s index at generation %d", built.kind, generation)


def _sample(vectors: Vectors, count: int) -> Vectors:
    if len(vectors) <= count:
        return vectors
    picked = np.random.default_rng(0).permutation(len(vectors))[:count]
    return vectors[np.sort(picked)]
