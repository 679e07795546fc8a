"""The store's vector index cache: loaded, kept in step with writes, and rebuilt of the kind
the store's size calls for.

A small store gets the exact index; from `ann_threshold` passages on, HNSW. An HNSW index
takes minutes to build at a million passages, so it is built in a background thread from the
stored vectors while searches go on against the index already there (or, with none usable,
against an exact one built first, which takes seconds). When the build is done it is
brought up to the store's current state under the writer lock, saved, and swapped in. A crash
mid-build leaves the old cache files, or none: every file is written whole and renamed.

Writes bring the index in memory along, but its file (630 MB at a million passages) is saved
only once `index_save_passages` have changed since the last save, or `index_save_seconds`
have passed, and at close. A saved index behind the store (a crash, another process's
writes) is caught up when loaded: the stored vectors it lacks are added, the ids no longer
stored removed. Chunk ids are never reused and an id's vector never changes, except by a
re-embed or a restore, which change the store's vectors stamp: an index of another stamp is
never caught up, but rebuilt.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable

import numpy as np

from kb.errors import KBError
from kb.settings import Settings
from kb.store.lock import WriterLock
from kb.store.protocol import Store, Vectors, WriteResult
from kb.vectors.index import (
    EXACT,
    HNSW,
    VECTORS_KEY,
    AnnParams,
    IndexKind,
    VectorIndex,
)
from kb.vectors.index_file import saved_generation

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
        self._closed = False
        # Bumped by every foreground rebuild (as after a re-embed): a background build begun
        # before it read vectors that may since have changed under the same ids.
        self._epoch = 0
        self._unsaved = 0  # passages added or removed in memory since the file was saved
        self._saved_at = time.monotonic()

    def wanted(self, count: int) -> IndexKind:
        return HNSW if count >= self._settings.ann_threshold else EXACT

    def current(self) -> VectorIndex:
        """The index at the store's current generation: kept, loaded or rebuilt, and caught
        up with writes it has not seen (another process's, or those after its last save)."""
        with self._lock:
            generation = self._store.generation()
            index = self._index
            if index is not None and index.generation == generation:
                return index
            stamp = self.stamp()
            if index is None or index.stamp != stamp or index.generation > generation:
                _, chunks, _ = self._store.counts()
                index = VectorIndex.load(
                    self._settings.store, generation, self._dimension(), chunks, self._params, stamp
                )
                self._unsaved, self._saved_at = 0, time.monotonic()
            if index is None:
                # Exact first, which takes seconds; HNSW follows in the background if wanted.
                index = self.rebuild(generation, EXACT)
            elif index.generation != generation:
                self._unsaved += self._catch_up(index)
            self._index = index
            self._consider(index)
            return index

    def stamp(self) -> str:
        """The store's vectors stamp ("" for a store never re-embedded nor restored)."""
        return self._store.get_meta(VECTORS_KEY) or ""

    def new_stamp(self) -> None:
        """Say that stored ids are about to hold other vectors (before a re-embed writes them):
        no index of the old vectors will be caught up and served after it."""
        self._store.set_meta(VECTORS_KEY, uuid.uuid4().hex)

    def _catch_up(self, index: VectorIndex) -> int:
        """Add the stored vectors the index lacks, remove the ids no longer stored. A writer
        in another process may move the store meanwhile: the next look catches up again."""
        generation = self._store.generation()
        stored, held = self._store.vector_ids(), index.ids()
        missing, extra = np.setdiff1d(stored, held), np.setdiff1d(held, stored)
        if len(missing):
            got, vectors = self._store.vectors_of(missing.tolist())
            index.add(got, vectors)
        index.remove(extra)
        log.info(
            "caught the %s index up from generation %d to %d: %d added, %d removed",
            index.kind,
            index.generation,
            generation,
            len(missing),
            len(extra),
        )
        index.generation = generation
        return len(missing) + len(extra)

    def drop(self) -> None:
        with self._lock:
            self._index = None

    def rebuild(self, generation: int, kind: IndexKind | None = None) -> VectorIndex:
        """Build from every stored vector now, in this thread, and save it."""
        with self._lock:
            self._epoch += 1
        stamp = self.stamp()
        ids, vectors = self._store.all_vectors(self._dimension())
        chosen = kind or self.wanted(len(ids))
        index = VectorIndex(self._dimension(), generation, chosen, self._params, stamp)
        if chosen == HNSW:
            index.train(_sample(vectors, TRAIN_SAMPLE))
        index.add(ids, vectors)
        index.save(self._settings.store)  # at once: `kb reindex` leaves a current file
        log.info(
            "rebuilt the FAISS index from %d stored vectors (generation %d, %s)",
            len(ids),
            generation,
            chosen,
        )
        with self._lock:
            self._index = index
            self._unsaved, self._saved_at = 0, time.monotonic()
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
            self._unsaved += len(result.removed) + (len(result.added) if vectors is not None else 0)
            if self._unsaved >= self._settings.index_save_passages or (
                self._unsaved
                and time.monotonic() - self._saved_at >= self._settings.index_save_seconds
            ):
                self._save(index)
            self._consider(index)

    def _save(self, index: VectorIndex) -> None:
        """Callers hold the writer lock and the knowledge base's lock."""
        index.save(self._settings.store)
        self._unsaved, self._saved_at = 0, time.monotonic()

    def close(self) -> None:
        """Save what changed since the last save, so that a clean exit leaves a current file
        (unless another process has saved a newer one meanwhile)."""
        self._closed = True
        with self._lock:
            if self._index is None or not self._unsaved:
                return
        try:
            with self._writer.hold(), self._lock:
                index = self._index
                newer = saved_generation(self._settings.store)
                if newer is not None and index is not None:
                    if index.generation < newer <= self._store.generation():
                        return
                if index is not None and self._unsaved:
                    self._save(index)
        except KBError as exc:  # busy: the next opening catches the saved file up instead
            log.warning("the vector index was not saved at close: %s", exc)

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
            if self._closed:  # the knowledge base closed under it: nothing failed
                log.info("stopped building the vector index: the store was closed")
                return
            log.exception("building the vector index in the background failed")
            self._failed_at = generation

    def _build_from_store(self) -> VectorIndex:
        """A fresh index of the wanted kind, the stored vectors read a batch at a time so
        that no second full copy of them sits in memory beside the index being built."""
        stamp = self.stamp()  # read first: vectors read after it are of it or a newer one
        ids = self._store.vector_ids()
        kind = self.wanted(len(ids))
        index = VectorIndex(self._dimension(), 0, kind, self._params, stamp)
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
            if self._epoch != epoch or built.stamp != self.stamp():
                log.info("dropped a background index build: the index was rebuilt meanwhile")
                return
            self._catch_up(built)
            built.save(self._settings.store)
            with self._lock:
                self._index = built
                self._unsaved, self._saved_at = 0, time.monotonic()
        log.info("swapped in the %s index at generation %d", built.kind, built.generation)


def _sample(vectors: Vectors, count: int) -> Vectors:
    if len(vectors) <= count:
        return vectors
    picked = np.random.default_rng(0).permutation(len(vectors))[:count]
    return vectors[np.sort(picked)]
