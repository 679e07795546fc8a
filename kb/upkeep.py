"""Upkeep of the store and its indexes: rebuilding them (re-embedding first after a change
of model), checking that store and index agree, counting what is there."""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np

from kb.access import Viewer
from kb.documents.writing import DIMENSION_KEY, MODEL_KEY, Writer
from kb.embedding.embedder import Embedder
from kb.models import Filters, Stats
from kb.search.searcher import Searcher
from kb.settings import Settings
from kb.store.integrity import describe
from kb.store.protocol import Store
from kb.vectors.index import EXACT
from kb.vectors.recall import Recall, measure_recall

log = logging.getLogger(__name__)

Progress = Callable[[int], None]


class Upkeep:
    """Rebuilds, checks and counts through the writer's locks and index cache."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        embedder: Embedder,
        writer: Writer,
        searcher: Searcher,
    ) -> None:
        self.store = store
        self.settings = settings
        self.embedder = embedder
        self._writer = writer
        self._searcher = searcher

    def reindex(self, progress: Progress | None = None) -> Stats:
        """Rebuild the FAISS index from stored vectors, and the keyword index from stored
        text; re-embed everything first when the model setting differs from the model the
        store was built with."""
        if self.store.get_meta(MODEL_KEY) not in (None, self.embedder.name):
            self.reembed(progress)
        with self._writer.writing():
            self._writer.index_cache.rebuild(self.store.generation())
        if self._searcher.keywords is not None:
            self._searcher.keywords.rebuild()
        return self.stats()

    def update_keyword_index(self) -> bool:
        """Bring the keyword index up to the store now (a command that wrote, before it exits:
        a background catch-up would die with it). False if another process is updating it."""
        return self._searcher.keywords is None or self._searcher.keywords.prepare()

    def reembed(self, progress: Progress | None) -> None:
        """Embed every stored passage again with the current model (the store was built with
        another); the index is rebuilt from the new vectors on its next use."""
        log.info("re-embedding every passage with %s", self.embedder.name)
        all_ids: list[int] = []
        all_vectors: list[np.ndarray] = []
        for batch in self.store.iter_chunk_texts(self.settings.ingest_batch_chunks):
            all_ids.extend(i for i, _ in batch)
            all_vectors.append(self.embedder.encode_documents([t for _, t in batch]))
            if progress is not None:
                progress(len(batch))
        dimension = self.embedder.dimension
        vectors = (
            np.concatenate(all_vectors) if all_vectors else np.zeros((0, dimension), np.float32)
        )
        with self._writer.writing():
            self._writer.index_cache.new_stamp()  # first: no index of the old vectors is caught up
            self.store.replace_vectors(np.asarray(all_ids, dtype=np.int64), vectors)
            self.store.set_meta(MODEL_KEY, self.embedder.name)
            self.store.set_meta(DIMENSION_KEY, str(dimension))

    def check(self) -> list[str]:
        """Everything wrong with the store and its index cache; empty when all agree."""
        dimension = self.store.get_meta(DIMENSION_KEY)
        problems = self.store.problems(int(dimension) if dimension else None)
        if dimension is None:
            return problems
        for _ in range(3):  # a writer in another process may move the store between looks
            generation = self.store.generation()
            indexed, stored = self._writer.index().ids(), self.store.vector_ids()
            if self.store.generation() == generation:
                break
        extra = np.setdiff1d(indexed, stored)
        if len(extra):
            problems.append(describe("index vectors without a stored vector", extra.tolist()))
        absent = np.setdiff1d(stored, indexed)
        if len(absent):
            problems.append(describe("stored vectors missing from the index", absent.tolist()))
        if len(indexed) != len(np.unique(indexed)):
            problems.append("the index holds some passages twice")
        return problems

    def stats(self, viewer: Viewer | None = None) -> Stats:
        """Counts of what the viewer may see (for a viewer, the searchable vectors are their
        passages: the index's own size would tell how much is hidden)."""
        if viewer is None:
            documents, chunks, by_type = self.store.counts()
        else:
            documents, chunks, by_type = self.store.visible_counts(Filters(viewer=viewer))
        stored_model = self.store.get_meta(MODEL_KEY)
        dimension = self.store.get_meta(DIMENSION_KEY)
        indexed = len(self._writer.index()) if dimension else 0
        kind = (self._writer.index().kind if dimension else EXACT) if viewer is None else None
        return Stats(
            documents=documents,
            chunks=chunks,
            model=stored_model or self.embedder.name,
            dimension=int(dimension) if dimension else 0,
            # For a viewer 0: the count of every write would tell of writes to hidden documents.
            generation=self.store.generation() if viewer is None else 0,
            index_vectors=indexed if viewer is None else min(indexed, chunks),
            doc_types=by_type,
            index_kind=kind,
        )

    def index_recall(self, queries: int = 200, k: int = 10) -> Recall:
        """recall@k of the vector index against exact search, stored vectors as queries."""
        return measure_recall(self._writer.index(), self.store, queries, k)
