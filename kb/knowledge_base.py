"""The knowledge base: one store, its vector index cache and the embedding model."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace

import numpy as np

from kb.access import Viewer, may_see
from kb.curation import Curation, check_marking
from kb.embedding.backends import make_embedder
from kb.embedding.embedder import Embedder
from kb.errors import ForbiddenError, InvalidMetadataError, ModelMismatchError
from kb.facets import Faceting
from kb.look_alikes import look_alike_refusal, look_alikes
from kb.metadata.filter_keys import FilterKeys
from kb.metadata.limits import check_metadata
from kb.models import (
    AddOutcome,
    AddResult,
    Chunk,
    Document,
    DocumentDraft,
    Filters,
    SearchRequest,
    SearchResponse,
    Stats,
)
from kb.originals import OriginalReading
from kb.packs.making import PackMaking
from kb.packs.suggesting import PackSuggesting
from kb.search.searcher import Searcher
from kb.settings import Settings
from kb.simhash import near, simhash
from kb.store.backends import open_store
from kb.store.integrity import describe
from kb.store.lock import WriterLock
from kb.store.protocol import Fingerprint, Store, WriteResult
from kb.vectors.index import EXACT, VectorIndex
from kb.vectors.index_cache import IndexCache
from kb.vectors.recall import Recall, measure_recall

log = logging.getLogger(__name__)

MODEL_KEY = "model"
DIMENSION_KEY = "dimension"
Progress = Callable[[int], None]


class KnowledgeBase(Curation, PackMaking, PackSuggesting, OriginalReading, Faceting):
    """Adds, finds and removes documents; SQLite is the truth, FAISS a cache of it."""

    def __init__(
        self,
        settings: Settings,
        store: Store | None = None,
        *,
        embedder: Embedder | None = None,
        allow_model_change: bool = False,
    ) -> None:
        """Open (or create) the store in `settings.store`.

        Args:
            store: another backend than the embedded SQLite one.
            embedder: an already loaded model to share (one per process is plenty).
            allow_model_change: open a store built with another model, to re-embed it.
        """
        self.settings = settings
        self.embedder = embedder if embedder is not None else make_embedder(settings)
        self.store: Store = store if store is not None else open_store(settings)
        stored = self.store.get_meta(MODEL_KEY)
        if stored is not None and stored != self.embedder.name and not allow_model_change:
            dimension = self.store.get_meta(DIMENSION_KEY)
            self.store.close()
            raise ModelMismatchError(
                f"the store at {settings.store} was built with the embedding model {stored!r} "
                f"(dimension {dimension}), but KB_MODEL and KB_EMBEDDER give "
                f"{self.embedder.name!r}; run `kb reindex` to re-embed every passage with it"
            )
        self._lock = threading.RLock()
        self._writer = WriterLock(settings.store, settings.write_wait_seconds)
        self.index_cache = IndexCache(
            self.store, settings, lambda: self.dimension, self._lock, self._writer
        )
        self.filter_keys = FilterKeys(self.store, settings)
        self.searcher = Searcher(self.store, self.index, self.embedder, settings, self.filter_keys)

    def close(self) -> None:
        self.searcher.close()
        self.index_cache.close()  # saves index changes not yet on disk
        self.store.close()

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the vector index cache ---------------------------------------------------------

    @property
    def dimension(self) -> int:
        stored = self.store.get_meta(DIMENSION_KEY)
        return int(stored) if stored is not None else self.embedder.dimension

    def index(self) -> VectorIndex:
        """The vector index at the store's current generation: kept, loaded or rebuilt."""
        return self.index_cache.current()

    def _rebuild(self, generation: int) -> VectorIndex:
        return self.index_cache.rebuild(generation)

    def _apply(self, result: WriteResult, vectors: np.ndarray | None) -> None:
        """Bring the cached index along with a write, or drop it if another writer came between."""
        self.index_cache.apply(result, vectors)

    # -- writes -------------------------------------------------------------------------

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the store's one-writer lock (across processes) around a write's short critical
        section: the store transaction and the index save. Never embed inside it.

        Raises StoreBusyError if another writer keeps it past `write_wait_seconds`."""
        with self._writer.hold(), self._lock:
            yield

    def add(
        self, drafts: Sequence[DocumentDraft], actor: str = "system", viewer: Viewer | None = None
    ) -> list[AddResult]:
        """Add documents, or new versions of them: unchanged ones are skipped, metadata-only
        changes are applied without re-embedding, content already stored under another id is
        refused as a duplicate, the rest are embedded and written in one transaction (and
        flagged when nearly the same as a stored document). With a viewer, a document they may
        not see is as if absent: its id cannot be written, its content is no duplicate."""
        known = self.store.fingerprints([d.document_id for d in drafts])
        holders = self._holders([d.sha256 for d in drafts], viewer)
        fresh_ids = [d.document_id for d in drafts if d.document_id not in known]
        alikes = look_alikes(self.store, fresh_ids)
        results: dict[str, AddResult] = {}
        to_write: list[DocumentDraft] = []
        for given in drafts:
            before = known.get(given.document_id)
            draft = self._marked(given, before)
            refusal = self._refusal(draft, before, viewer) or look_alike_refusal(
                self.store, draft.document_id, alikes, viewer
            )
            if refusal is not None:
                results[draft.document_id] = AddResult(
                    draft.document_id, AddOutcome.FAILED, reason=refusal
                )
                continue
            if before is not None and not before.deleted and before.sha256 == draft.sha256:
                results[draft.document_id] = AddResult(
                    draft.document_id, self._update_fields(draft, before, actor)
                )
                continue
            holder = holders.setdefault(draft.sha256, draft.document_id)
            if holder != draft.document_id:
                results[draft.document_id] = AddResult(
                    draft.document_id, AddOutcome.DUPLICATE, duplicate_of=holder
                )
                continue
            fresh = before is None or before.deleted
            results[draft.document_id] = AddResult(
                draft.document_id,
                AddOutcome.ADDED if fresh else AddOutcome.UPDATED,
                version=1 if before is None else before.version + 1,
            )
            to_write.append(draft)
        if to_write:
            fingerprints = [simhash(c.text for c in d.chunks) for d in to_write]
            for draft, near_ids in zip(to_write, self._near(to_write, fingerprints), strict=True):
                shown = tuple(self._visible_ids(list(near_ids), viewer))
                if shown:
                    results[draft.document_id] = replace(
                        results[draft.document_id], near_duplicates=shown
                    )
            self._write(to_write, fingerprints, actor)
        for draft in drafts:
            result = results[draft.document_id]
            if not draft.relations or result.outcome in (AddOutcome.DUPLICATE, AddOutcome.FAILED):
                continue
            with self.writing():
                added = self.store.add_relations(draft.document_id, draft.relations, actor)
            if added and result.outcome is AddOutcome.UNCHANGED:
                results[draft.document_id] = replace(result, outcome=AddOutcome.UPDATED)
        return [results[d.document_id] for d in drafts]

    def _marked(self, draft: DocumentDraft, before: Fingerprint | None) -> DocumentDraft:
        """The draft with its marking settled: as given, else as stored, else the default."""
        classification = draft.classification or (
            before.classification if before else self.settings.default_classification
        )
        groups = draft.groups if draft.groups is not None else (before.groups if before else ())
        return replace(draft, classification=classification, groups=tuple(sorted(groups)))

    def _refusal(
        self, draft: DocumentDraft, before: Fingerprint | None, viewer: Viewer | None
    ) -> str | None:
        if before is not None and not may_see(viewer, before.classification, before.groups):
            # Said as of any id one may not use, so it tells nothing of what is there.
            return f"document_id {draft.document_id!r} is not available; choose another"
        try:
            check_marking(draft, viewer)
            check_metadata(draft.metadata)
        except (ForbiddenError, InvalidMetadataError) as exc:
            return exc.message
        # A draft without passages (a file not parsed again) may only re-label stored bytes.
        if not draft.chunks and (before is None or before.deleted or before.sha256 != draft.sha256):
            return "the stored document changed during this import; ingest it again"
        return None

    def _update_fields(self, draft: DocumentDraft, before: Fingerprint, actor: str) -> AddOutcome:
        """Same content: apply changed fields and marking without re-embedding."""
        fields = (dict(draft.metadata), draft.title, draft.doc_type, draft.date)
        marking = (draft.classification, draft.groups)
        stored = (before.metadata, before.title, before.doc_type, before.date)
        if stored == fields and (before.classification, before.groups) == marking:
            return AddOutcome.UNCHANGED
        self._change(lambda: self.store.update_document_fields(draft, actor))
        return AddOutcome.UPDATED

    def _holders(self, hashes: list[str], viewer: Viewer | None) -> dict[str, str]:
        """content hash -> a live document holding it that the viewer may see."""
        holders = self.store.live_with_sha(hashes)
        shown = set(self._visible_ids(list(holders.values()), viewer))
        return {sha: holder for sha, holder in holders.items() if holder in shown}

    def _near(
        self, drafts: list[DocumentDraft], fingerprints: list[int | None]
    ) -> list[tuple[str, ...]]:
        """For each draft, the stored or earlier drafts whose text is nearly the same."""
        bits = self.settings.near_duplicate_bits
        if bits == 0:
            return [()] * len(drafts)
        ids, hashes = self.store.live_simhashes()
        found: list[tuple[str, ...]] = []
        for draft, fingerprint in zip(drafts, fingerprints, strict=True):
            if fingerprint is None:
                found.append(())
                continue
            hits = (ids[i] for i in near(fingerprint, hashes, bits))
            found.append(tuple(dict.fromkeys(h for h in hits if h != draft.document_id)))
            ids.append(draft.document_id)
            hashes.append(fingerprint)
        return found

    def _write(
        self, drafts: list[DocumentDraft], fingerprints: list[int | None], actor: str
    ) -> None:
        texts = [chunk.text for draft in drafts for chunk in draft.chunks]
        vectors = self.embedder.encode_documents(texts)
        per_document = np.split(vectors, np.cumsum([len(d.chunks) for d in drafts])[:-1])
        with self.writing():
            if self.store.get_meta(MODEL_KEY) is None:
                self.store.set_meta(MODEL_KEY, self.embedder.name)
                self.store.set_meta(DIMENSION_KEY, str(vectors.shape[1]))
            self.index()  # make sure the cache is current before extending it
            result = self.store.write_documents(drafts, per_document, fingerprints, actor)
            self._apply(result, vectors)

    def _change(self, write: Callable[[], WriteResult]) -> None:
        with self.writing():
            if self.store.get_meta(DIMENSION_KEY) is not None:
                self.index()  # current before it is brought along
            result = write()
            if len(result.added):
                ids, vectors = self.store.vectors_of(result.added.tolist())
                self._apply(WriteResult(result.removed, ids, result.generation), vectors)
            else:
                self._apply(result, None)

    def reindex(self, progress: Progress | None = None) -> Stats:
        """Rebuild the FAISS index from stored vectors, and the keyword index from stored
        text; re-embed everything first when the model setting differs from the model the
        store was built with."""
        if self.store.get_meta(MODEL_KEY) not in (None, self.embedder.name):
            self._reembed(progress)
        with self.writing():
            self._rebuild(self.store.generation())
        if self.searcher.keywords is not None:
            self.searcher.keywords.rebuild()
        return self.stats()

    def update_keyword_index(self) -> bool:
        """Bring the keyword index up to the store now (a command that wrote, before it exits:
        a background catch-up would die with it). False if another process is updating it."""
        return self.searcher.keywords is None or self.searcher.keywords.prepare()

    def _reembed(self, progress: Progress | None) -> None:
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
        with self.writing():
            self.index_cache.new_stamp()  # first: no index of the old vectors is caught up
            self.store.replace_vectors(np.asarray(all_ids, dtype=np.int64), vectors)
            self.store.set_meta(MODEL_KEY, self.embedder.name)
            self.store.set_meta(DIMENSION_KEY, str(dimension))

    # -- reads --------------------------------------------------------------------------

    def chunks(self, document_id: str, viewer: Viewer | None = None) -> list[Chunk]:
        self.get_document(document_id, viewer)
        return self.store.chunks_of(document_id)

    def list_documents(
        self, filters: Filters, limit: int = 20, offset: int = 0, viewer: Viewer | None = None
    ) -> tuple[int, list[Document]]:
        seen = self.filter_keys.check(as_viewer(filters, viewer))
        return self.store.count_documents(seen), self.store.list_documents(seen, limit, offset)

    def missing(self, document_ids: Sequence[str]) -> list[str]:
        """The ids among these that the store does not hold."""
        known = self.store.fingerprints(document_ids)
        return [d for d in document_ids if d not in known]

    def search(self, request: SearchRequest, viewer: Viewer | None = None) -> SearchResponse:
        """Precedents among the documents the viewer may see (the request's filters may
        already name the viewer)."""
        return self.searcher.search(_seen_by(request, viewer))

    def search_batch(
        self, requests: Sequence[SearchRequest], viewer: Viewer | None = None
    ) -> list[SearchResponse]:
        return self.searcher.search_batch([_seen_by(r, viewer) for r in requests])

    def similar(
        self,
        document_id: str,
        filters: Filters,
        limit: int = 10,
        offset: int = 0,
        viewer: Viewer | None = None,
    ) -> SearchResponse:
        seen = as_viewer(filters, viewer)
        self.get_document(document_id, seen.viewer)
        return self.searcher.similar(document_id, seen, limit, offset)

    def check(self) -> list[str]:
        """Everything wrong with the store and its index cache; empty when all agree."""
        dimension = self.store.get_meta(DIMENSION_KEY)
        problems = self.store.problems(int(dimension) if dimension else None)
        if dimension is None:
            return problems
        for _ in range(3):  # a writer in another process may move the store between looks
            generation = self.store.generation()
            indexed, stored = self.index().ids(), self.store.vector_ids()
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
        indexed = len(self.index()) if dimension else 0
        kind = (self.index().kind if dimension else EXACT) if viewer is None else None
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
        return measure_recall(self.index(), self.store, queries, k)


def as_viewer(filters: Filters, viewer: Viewer | None) -> Filters:
    """The filters as the viewer sees them (a viewer already in the filters stays)."""
    return filters if viewer is None else replace(filters, viewer=viewer)


def _seen_by(request: SearchRequest, viewer: Viewer | None) -> SearchRequest:
    return (
        request if viewer is None else replace(request, filters=as_viewer(request.filters, viewer))
    )
