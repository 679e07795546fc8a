"""The knowledge base: one store, its vector index cache and the embedding model, and the
services built from them (curation, packs, pack suggestions, originals, facets, search); each
public method here is the one door to one service's method."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from kb.access import Viewer
from kb.documents.adding import Adding
from kb.documents.curation import Curation
from kb.documents.originals import OriginalReading
from kb.documents.writing import DIMENSION_KEY, Writer
from kb.documents.writing import MODEL_KEY as MODEL_KEY  # where kb.backup has always read it
from kb.embedding.backends import make_embedder
from kb.embedding.embedder import Embedder
from kb.errors import ModelMismatchError
from kb.facets import Faceting, Facets
from kb.metadata.filter_keys import FilterKeys
from kb.metadata.schema import MetadataSchema
from kb.models import (
    AddResult,
    AuditEntry,
    Chunk,
    Document,
    DocumentDraft,
    Filters,
    Original,
    Pack,
    Relation,
    SearchRequest,
    SearchResponse,
    Stats,
    Version,
)
from kb.packs.making import PackMaking
from kb.packs.suggesting import PackSuggesting, PackSuggestion
from kb.search.searcher import Searcher
from kb.settings import Settings
from kb.store.backends import open_store
from kb.store.protocol import Store
from kb.upkeep import Progress, Upkeep
from kb.vectors.index import VectorIndex
from kb.vectors.recall import Recall


class KnowledgeBase:
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
        self.embedder = model = embedder if embedder is not None else make_embedder(settings)
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
        self.writer = Writer(self.store, settings, lambda: model.dimension)
        self.index_cache = self.writer.index_cache
        self.filter_keys = FilterKeys(self.store, settings)
        self.searcher = Searcher(
            self.store, self.writer.index, self.embedder, settings, self.filter_keys
        )
        self.curation = Curation(self.store, settings, self.writer.change, self.writer.writing)
        self.adding = Adding(self.store, settings, self.embedder, self.writer, self.curation)
        self.original_reading = OriginalReading(self.store, self.curation)
        self.pack_making = PackMaking(self.store, self.curation)
        self.pack_suggesting = PackSuggesting(self.store, settings, self.search_batch)
        self.faceting = Faceting(self.store, self.filter_keys)
        self.upkeep = Upkeep(self.store, settings, self.embedder, self.writer, self.searcher)

    def close(self) -> None:
        """Close the searcher, save index changes not yet on disk, close the store."""
        self.searcher.close()
        self.writer.close()
        self.store.close()

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the vector index cache ---------------------------------------------------------

    @property
    def dimension(self) -> int:
        """The stored vectors' dimension, else the model's (nothing stored yet)."""
        return self.writer.dimension()

    def index(self) -> VectorIndex:
        """The vector index at the store's current generation: kept, loaded or rebuilt."""
        return self.writer.index()

    # -- writes -------------------------------------------------------------------------

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the store's one-writer lock (across processes) around a write's short critical
        section: the store transaction and the index save. Never embed inside it.

        Raises StoreBusyError if another writer keeps it past `write_wait_seconds`."""
        with self.writer.writing():
            yield

    def add(
        self, drafts: Sequence[DocumentDraft], actor: str = "system", viewer: Viewer | None = None
    ) -> list[AddResult]:
        """Add documents, or new versions of them: unchanged ones are skipped, metadata-only
        changes are applied without re-embedding, content already stored under another id is
        refused as a duplicate, the rest are embedded and written in one transaction (and
        flagged when nearly the same as a stored document). With a viewer, a document they may
        not see is as if absent: its id cannot be written, its content is no duplicate."""
        return self.adding.add(drafts, actor, viewer)

    def reindex(self, progress: Progress | None = None) -> Stats:
        """Rebuild the FAISS index from stored vectors, and the keyword index from stored
        text; re-embed everything first when the model setting differs from the model the
        store was built with."""
        return self.upkeep.reindex(progress)

    def update_keyword_index(self) -> bool:
        """Bring the keyword index up to the store now (a command that wrote, before it exits:
        a background catch-up would die with it). False if another process is updating it."""
        return self.upkeep.update_keyword_index()

    # -- reads --------------------------------------------------------------------------

    def chunks(self, document_id: str, viewer: Viewer | None = None) -> list[Chunk]:
        """The passages of a live document the viewer may see, in order."""
        self.curation.get_document(document_id, viewer)
        return self.store.chunks_of(document_id)

    def list_documents(
        self, filters: Filters, limit: int = 20, offset: int = 0, viewer: Viewer | None = None
    ) -> tuple[int, list[Document]]:
        """One page of the live documents the filters let through, and how many there are."""
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
        """Several searches at once, each as `search` would answer it."""
        return self.searcher.search_batch([_seen_by(r, viewer) for r in requests])

    def similar(
        self,
        document_id: str,
        filters: Filters,
        limit: int = 10,
        offset: int = 0,
        viewer: Viewer | None = None,
    ) -> SearchResponse:
        """Documents like this one (which the viewer must see) among those they may see."""
        seen = as_viewer(filters, viewer)
        self.curation.get_document(document_id, seen.viewer)
        return self.searcher.similar(document_id, seen, limit, offset)

    # -- upkeep (kb.upkeep) -------------------------------------------------------------

    def check(self) -> list[str]:
        """Everything wrong with the store and its index cache; empty when all agree."""
        return self.upkeep.check()

    def stats(self, viewer: Viewer | None = None) -> Stats:
        """Counts of what the viewer may see (for a viewer, the searchable vectors are their
        passages: the index's own size would tell how much is hidden)."""
        return self.upkeep.stats(viewer)

    def index_recall(self, queries: int = 200, k: int = 10) -> Recall:
        """recall@k of the vector index against exact search, stored vectors as queries."""
        return self.upkeep.index_recall(queries, k)

    # -- curation (kb.documents.curation) ----------------------------------------------

    def get_document(self, document_id: str, viewer: Viewer | None = None) -> Document:
        """A live document the viewer may see; one in the trash or hidden is not found."""
        return self.curation.get_document(document_id, viewer)

    def edit(
        self,
        document_id: str,
        changes: Mapping[str, Any],
        actor: str,
        schema: MetadataSchema | None = None,
        viewer: Viewer | None = None,
    ) -> Document:
        """Change title, doc_type, date, metadata (a merge patch) and marking, without
        re-embedding; see `Curation.edit`."""
        return self.curation.edit(document_id, changes, actor, schema, viewer)

    def delete(
        self, document_id: str, actor: str = "system", viewer: Viewer | None = None
    ) -> Document:
        """Move a document to the trash: gone from every read, restorable for `trash_days`."""
        return self.curation.delete(document_id, actor, viewer)

    def restore(
        self, document_id: str, actor: str = "system", viewer: Viewer | None = None
    ) -> Document:
        """Bring a document back from the trash."""
        return self.curation.restore(document_id, actor, viewer)

    def purge(self, document_id: str, actor: str = "system", viewer: Viewer | None = None) -> None:
        """Remove a document in the trash for good, text and all (the audit log keeps a line)."""
        self.curation.purge(document_id, actor, viewer)

    def purge_expired(self, actor: str = "system") -> list[str]:
        """Purge what has been in the trash longer than `trash_days`; returns their ids."""
        return self.curation.purge_expired(actor)

    def trash(
        self, limit: int = 20, offset: int = 0, viewer: Viewer | None = None
    ) -> tuple[int, list[Document]]:
        """One page of the documents in the trash the viewer may see, and how many there are."""
        return self.curation.trash(limit, offset, viewer)

    def purge_after(self, document: Document) -> str | None:
        """When a document in the trash becomes due for purging."""
        return self.curation.purge_after(document)

    def versions(self, document_id: str, viewer: Viewer | None = None) -> list[Version]:
        """The current version first, then the earlier ones, newest first."""
        return self.curation.versions(document_id, viewer)

    def version(
        self, document_id: str, number: int, viewer: Viewer | None = None
    ) -> tuple[Version, list[dict[str, Any]]]:
        """An earlier version the viewer may see, and its passages."""
        return self.curation.version(document_id, number, viewer)

    def near_duplicates(self, document_id: str, viewer: Viewer | None = None) -> list[str]:
        """Live documents the viewer may see whose text is nearly this one's."""
        return self.curation.near_duplicates(document_id, viewer)

    def audit(
        self,
        document_id: str | None = None,
        action: str | None = None,
        actor: str | None = None,
        since: str | None = None,
        limit: int = 50,
        offset: int = 0,
        viewer: Viewer | None = None,
    ) -> tuple[int, list[AuditEntry]]:
        """Changes, newest first, to documents the viewer may see."""
        return self.curation.audit(document_id, action, actor, since, limit, offset, viewer)

    def relate(
        self,
        source_id: str,
        relation: str,
        target_id: str,
        actor: str,
        viewer: Viewer | None = None,
    ) -> list[Relation]:
        """Link two live documents; returns the source's links. Linking twice is a no-op."""
        return self.curation.relate(source_id, relation, target_id, actor, viewer)

    def unrelate(
        self,
        source_id: str,
        relation: str,
        target_id: str,
        actor: str,
        viewer: Viewer | None = None,
    ) -> None:
        """Remove a link between two live documents (NotFoundError if there is none)."""
        self.curation.unrelate(source_id, relation, target_id, actor, viewer)

    def relations(self, document_id: str, viewer: Viewer | None = None) -> list[Relation]:
        """Links from and to this document, to documents the viewer may see."""
        return self.curation.relations(document_id, viewer)

    # -- original files (kb.documents.originals) ---------------------------------------

    def original(self, document_id: str, viewer: Viewer | None = None) -> tuple[Original, Path]:
        """The original file of a live document the viewer may see, and where it is."""
        return self.original_reading.original(document_id, viewer)

    def version_original(
        self, document_id: str, number: int, viewer: Viewer | None = None
    ) -> tuple[Original, Path]:
        """The original file of one version (the current one or an earlier one)."""
        return self.original_reading.version_original(document_id, number, viewer)

    def orphan_originals(self) -> list[str]:
        """Kept files that no document or version names."""
        return self.original_reading.orphan_originals()

    def check_notes(self) -> list[str]:
        """What `kb check` mentions without calling it a problem."""
        return self.original_reading.check_notes()

    # -- reading packs (kb.packs.making, kb.packs.suggesting) ------------------------------

    def pack(self, pack_id: int, viewer: Viewer | None = None) -> Pack:
        """The pack with the items the viewer may see; the others are withheld."""
        return self.pack_making.pack(pack_id, viewer)

    def packs(self, viewer: Viewer | None = None) -> list[Pack]:
        """Every pack, most recently changed first, each as the viewer sees it."""
        return self.pack_making.packs(viewer)

    def list_packs(
        self, limit: int, offset: int, viewer: Viewer | None = None
    ) -> tuple[int, list[Pack]]:
        """One page of packs, most recently changed first, and how many there are in all."""
        return self.pack_making.list_packs(limit, offset, viewer)

    def pack_contents(self, pack: Pack) -> tuple[dict[str, Document], dict[int, Chunk]]:
        """The live documents and the passages a (viewer-filtered) pack's items name."""
        return self.pack_making.pack_contents(pack)

    def create_pack(
        self,
        title: str,
        owner: str,
        audience: str = "",
        objectives: Sequence[str] = (),
        viewer: Viewer | None = None,
    ) -> Pack:
        """A new empty pack."""
        return self.pack_making.create_pack(title, owner, audience, objectives, viewer)

    def edit_pack(
        self,
        pack_id: int,
        title: str | None = None,
        audience: str | None = None,
        objectives: Sequence[str] | None = None,
        viewer: Viewer | None = None,
    ) -> Pack:
        """Change what is given of the title, audience and objectives (the whole list)."""
        return self.pack_making.edit_pack(pack_id, title, audience, objectives, viewer)

    def delete_pack(self, pack_id: int, viewer: Viewer | None = None) -> None:
        """Delete a pack and its items."""
        self.pack_making.delete_pack(pack_id, viewer)

    def add_to_pack(
        self,
        pack_id: int,
        document_id: str,
        chunk_id: int | None = None,
        note: str = "",
        viewer: Viewer | None = None,
    ) -> Pack:
        """Append a document, or one of its passages, to a pack."""
        return self.pack_making.add_to_pack(pack_id, document_id, chunk_id, note, viewer)

    def add_all_to_pack(
        self,
        pack_id: int,
        items: Sequence[tuple[str, int | None, str]],
        viewer: Viewer | None = None,
    ) -> Pack:
        """Append (document_id, chunk_id or None, note) items in order; a bad one adds none."""
        return self.pack_making.add_all_to_pack(pack_id, items, viewer)

    def edit_pack_item(
        self, pack_id: int, item_id: int, note: str, viewer: Viewer | None = None
    ) -> Pack:
        """Replace an item's note."""
        return self.pack_making.edit_pack_item(pack_id, item_id, note, viewer)

    def remove_from_pack(self, pack_id: int, item_id: int, viewer: Viewer | None = None) -> Pack:
        """Take an item out of a pack; the items after it move up."""
        return self.pack_making.remove_from_pack(pack_id, item_id, viewer)

    def reorder_pack(
        self, pack_id: int, item_ids: Sequence[int], viewer: Viewer | None = None
    ) -> Pack:
        """Put the items the viewer sees in this order; withheld items keep their slots."""
        return self.pack_making.reorder_pack(pack_id, item_ids, viewer)

    def move_pack_item(
        self, pack_id: int, item_id: int, to_index: int, viewer: Viewer | None = None
    ) -> Pack:
        """Move one item to `to_index` (0 is the first) among the items the viewer sees."""
        return self.pack_making.move_pack_item(pack_id, item_id, to_index, viewer)

    def duplicate_pack(
        self,
        pack_id: int,
        owner: str,
        title: str | None = None,
        viewer: Viewer | None = None,
    ) -> Pack:
        """A copy of the pack with the items the viewer sees, owned by `owner`."""
        return self.pack_making.duplicate_pack(pack_id, owner, title, viewer)

    def suggest_pack(
        self,
        theme: str,
        filters: Filters | None = None,
        limit: int = 10,
        order: str = "relevance",
        viewer: Viewer | None = None,
    ) -> PackSuggestion:
        """Up to `limit` diverse items for a theme, each with a `why`, in the trainer's order."""
        return self.pack_suggesting.suggest_pack(theme, filters, limit, order, viewer)

    # -- facets (kb.facets) ---------------------------------------------------------------

    def facets(self, filters: Filters, viewer: Viewer | None = None) -> Facets:
        """Counts per value of each facet over the documents the filters and viewer allow."""
        return self.faceting.facets(filters, viewer)


def as_viewer(filters: Filters, viewer: Viewer | None) -> Filters:
    """The filters as the viewer sees them (a viewer already in the filters stays)."""
    return filters if viewer is None else replace(filters, viewer=viewer)


def _seen_by(request: SearchRequest, viewer: Viewer | None) -> SearchRequest:
    return (
        request if viewer is None else replace(request, filters=as_viewer(request.filters, viewer))
    )
