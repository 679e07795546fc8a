"""The store's one writer: each write's store transaction under the writer lock (across
processes) and the thread lock, with the vector index cache brought along in the same hold."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np

from kb.settings import Settings
from kb.store.lock import WriterLock
from kb.store.protocol import Store, WriteResult
from kb.vectors.index import VectorIndex
from kb.vectors.index_cache import IndexCache

MODEL_KEY = "model"
DIMENSION_KEY = "dimension"
Write = Callable[[], WriteResult]


class Writer:
    """Holds the locks and the index cache every service that writes shares."""

    def __init__(
        self, store: Store, settings: Settings, model_dimension: Callable[[], int]
    ) -> None:
        """Args:
        model_dimension: the embedding model's, asked only while the store holds no vector
            (asking may load the model)."""
        self.store = store
        self._model_dimension = model_dimension
        self._lock = threading.RLock()
        self._writer = WriterLock(settings.store, settings.write_wait_seconds)
        self.index_cache = IndexCache(store, settings, self.dimension, self._lock, self._writer)

    def dimension(self) -> int:
        """The stored vectors' dimension, else the model's (nothing stored yet)."""
        stored = self.store.get_meta(DIMENSION_KEY)
        return int(stored) if stored is not None else self._model_dimension()

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the one-writer lock (across processes) and the thread lock; raises
        StoreBusyError if another writer keeps it past `write_wait_seconds`."""
        with self._writer.hold(), self._lock:
            yield

    def index(self) -> VectorIndex:
        """The vector index at the store's current generation: kept, loaded or rebuilt."""
        return self.index_cache.current()

    def apply(self, result: WriteResult, vectors: np.ndarray | None) -> None:
        """Bring the cached index along with a write, or drop it if another writer came between."""
        self.index_cache.apply(result, vectors)

    def change(self, write: Write) -> None:
        """Run a store write that embeds nothing (an edit, a deletion, a restore, a purge) and
        bring the index along with the vectors it added or removed."""
        with self.writing():
            if self.store.get_meta(DIMENSION_KEY) is not None:
                self.index()  # current before it is brought along
            result = write()
            if len(result.added):
                ids, vectors = self.store.vectors_of(result.added.tolist())
                self.apply(WriteResult(result.removed, ids, result.generation), vectors)
            else:
                self.apply(result, None)

    def close(self) -> None:
        """Save index changes not yet on disk."""
        self.index_cache.close()
