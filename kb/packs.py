"""Reading packs for the training unit: ordered documents and passages with notes. A pack is
shown to each viewer with only the items they may see; the rest are counted as withheld."""

from __future__ import annotations

from kb.access import Viewer
from kb.errors import InvalidRequestError, NotFoundError
from kb.models import Document, Pack
from kb.store import Store

MAX_TITLE_CHARS = 300


class PackMaking:
    store: Store

    def get_document(self, document_id: str, viewer: Viewer | None = None) -> Document:
        raise NotImplementedError  # the KnowledgeBase's (kb.curation)

    def _visible_ids(self, document_ids: list[str], viewer: Viewer | None) -> list[str]:
        raise NotImplementedError  # the KnowledgeBase's (kb.curation)

    def create_pack(
        self, title: str, owner: str, audience: str = "", objectives: tuple[str, ...] = ()
    ) -> Pack:
        title = " ".join(title.split())
        if not title or len(title) > MAX_TITLE_CHARS:
            raise InvalidRequestError(f"a pack needs a title of 1 to {MAX_TITLE_CHARS} characters")
        pack_id = self.store.create_pack(title, audience.strip(), list(objectives), owner)
        return self.pack(pack_id)

    def pack(self, pack_id: int, viewer: Viewer | None = None) -> Pack:
        """The pack with the items the viewer may see (in order); the others are withheld."""
        found = self.store.get_pack(pack_id)
        if found is None:
            raise NotFoundError(f"no pack {pack_id}")
        shown = set(self._visible_ids([i.document_id for i in found.items], viewer))
        items = tuple(i for i in found.items if i.document_id in shown)
        return Pack(**{**found.__dict__, "items": items, "withheld": len(found.items) - len(items)})

    def packs(self) -> list[Pack]:
        return self.store.list_packs()

    def add_to_pack(
        self,
        pack_id: int,
        document_id: str,
        chunk_id: int | None = None,
        note: str = "",
        viewer: Viewer | None = None,
    ) -> Pack:
        """Append a document, or one of its passages, to a pack."""
        self.pack(pack_id, viewer)
        self.get_document(document_id, viewer)
        if chunk_id is not None:
            chunks = self.store.chunks_by_id([chunk_id])
            if chunk_id not in chunks or chunks[chunk_id].document_id != document_id:
                raise NotFoundError(f"document {document_id!r} has no passage {chunk_id}")
        self.store.add_pack_item(pack_id, document_id, chunk_id, note.strip())
        return self.pack(pack_id, viewer)
