"""Reading packs for the training unit: ordered documents and passages with notes. A pack is
shown to each viewer with only the items they may see; the rest are counted as withheld, keep
their places, and answer like missing items to anyone who tries to change them.

Packs belong to the training unit, not to one trainer: whoever may work on packs (the `packs`
action) may change any of them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from kb.access import Viewer
from kb.documents.curation import Curation
from kb.errors import ForbiddenError, InvalidRequestError, NotFoundError
from kb.models import Chunk, Document, Pack, PackItem
from kb.store.protocol import Store

MAX_TITLE_CHARS = 300
MAX_AUDIENCE_CHARS = 300
MAX_OBJECTIVES = 30
MAX_OBJECTIVE_CHARS = 500
MAX_NOTE_CHARS = 5000
COPY_PREFIX = "Copy of "
# SQLite's largest integer: an id beyond it names nothing (and would not fit in a query).
MAX_ID = 2**63 - 1


class PackMaking:
    """Reads and changes packs; which documents a viewer may see is the curation's say."""

    def __init__(self, store: Store, curation: Curation) -> None:
        self.store = store
        self._curation = curation

    # -- reading ------------------------------------------------------------------------

    def pack(self, pack_id: int, viewer: Viewer | None = None) -> Pack:
        """The pack with the items the viewer may see, in order and numbered from 0 as they
        see them; the others are withheld (counted, never shown)."""
        return self._seen(self._stored(pack_id), viewer)

    def packs(self, viewer: Viewer | None = None) -> list[Pack]:
        """Every pack, most recently changed first, each as the viewer sees it."""
        return [self._seen(p, viewer) for p in self.store.list_packs()]

    def list_packs(
        self, limit: int, offset: int, viewer: Viewer | None = None
    ) -> tuple[int, list[Pack]]:
        """One page of packs, most recently changed first, and how many there are in all."""
        page = self.store.list_packs(limit, offset)
        return self.store.count_packs(), [self._seen(p, viewer) for p in page]

    def pack_contents(self, pack: Pack) -> tuple[dict[str, Document], dict[int, Chunk]]:
        """The live documents and the passages a (viewer-filtered) pack's items name, to show
        each item with its title, date and pages without one call per item. A passage replaced
        by a newer version of its document is absent."""
        documents = self.store.documents_by_id([i.document_id for i in pack.items])
        chunk_ids = [i.chunk_id for i in pack.items if i.chunk_id is not None]
        chunks = self.store.chunks_by_id(chunk_ids) if chunk_ids else {}
        return documents, {k: c for k, c in chunks.items() if c.document_id in documents}

    def _stored(self, pack_id: int) -> Pack:
        found = self.store.get_pack(pack_id) if 0 < pack_id <= MAX_ID else None
        if found is None:
            raise NotFoundError(f"no pack {pack_id}")
        return found

    def _seen(self, found: Pack, viewer: Viewer | None) -> Pack:
        shown = set(self._curation.visible_ids([i.document_id for i in found.items], viewer))
        items = [i for i in found.items if i.document_id in shown]
        return replace(
            found,
            items=tuple(replace(item, position=n) for n, item in enumerate(items)),
            withheld=len(found.items) - len(items),
        )

    def _item(self, pack: Pack, item_id: int) -> PackItem:
        """An item the viewer sees; a withheld one is not found exactly like a missing one."""
        for item in pack.items:
            if item.item_id == item_id:
                return item
        raise NotFoundError(f"pack {pack.pack_id} has no item {item_id}")

    # -- changing -----------------------------------------------------------------------

    def create_pack(
        self,
        title: str,
        owner: str,
        audience: str = "",
        objectives: Sequence[str] = (),
        viewer: Viewer | None = None,
    ) -> Pack:
        may_change(viewer)
        pack_id = self.store.create_pack(
            clean_title(title), clean_audience(audience), clean_objectives(objectives), owner
        )
        return self.pack(pack_id, viewer)

    def edit_pack(
        self,
        pack_id: int,
        title: str | None = None,
        audience: str | None = None,
        objectives: Sequence[str] | None = None,
        viewer: Viewer | None = None,
    ) -> Pack:
        """Change what is given of the title, audience and objectives (the whole list)."""
        may_change(viewer)
        pack = self._stored(pack_id)
        if title is None and audience is None and objectives is None:
            return self._seen(pack, viewer)
        self.store.update_pack(
            pack_id,
            pack.title if title is None else clean_title(title),
            pack.audience if audience is None else clean_audience(audience),
            list(pack.objectives) if objectives is None else clean_objectives(objectives),
        )
        return self.pack(pack_id, viewer)

    def delete_pack(self, pack_id: int, viewer: Viewer | None = None) -> None:
        may_change(viewer)
        self._stored(pack_id)
        self.store.delete_pack(pack_id)

    def add_to_pack(
        self,
        pack_id: int,
        document_id: str,
        chunk_id: int | None = None,
        note: str = "",
        viewer: Viewer | None = None,
    ) -> Pack:
        """Append a document, or one of its passages, to a pack."""
        return self.add_all_to_pack(pack_id, [(document_id, chunk_id, note)], viewer)

    def add_all_to_pack(
        self,
        pack_id: int,
        items: Sequence[tuple[str, int | None, str]],
        viewer: Viewer | None = None,
    ) -> Pack:
        """Append (document_id, chunk_id or None, note) items in order: every one is checked
        first, then all are added in one transaction, so a bad one adds none."""
        may_change(viewer)
        self._stored(pack_id)
        wanted = [c for _, c, _ in items if c is not None and 0 <= c <= MAX_ID]
        chunks = self.store.chunks_by_id(wanted) if wanted else {}
        for document_id, chunk_id, _ in items:
            self._curation.get_document(document_id, viewer)
            if chunk_id is not None and (
                chunk_id not in chunks or chunks[chunk_id].document_id != document_id
            ):
                raise NotFoundError(f"document {document_id!r} has no passage {chunk_id}")
        self.store.add_pack_items(pack_id, [(d, c, clean_note(note)) for d, c, note in items])
        return self.pack(pack_id, viewer)

    def edit_pack_item(
        self, pack_id: int, item_id: int, note: str, viewer: Viewer | None = None
    ) -> Pack:
        """Replace an item's note."""
        may_change(viewer)
        self._item(self.pack(pack_id, viewer), item_id)
        self.store.set_pack_item_note(pack_id, item_id, clean_note(note))
        return self.pack(pack_id, viewer)

    def remove_from_pack(self, pack_id: int, item_id: int, viewer: Viewer | None = None) -> Pack:
        """Take an item out of a pack; the items after it move up."""
        may_change(viewer)
        self._item(self.pack(pack_id, viewer), item_id)
        self.store.remove_pack_item(pack_id, item_id)
        return self.pack(pack_id, viewer)

    def reorder_pack(
        self, pack_id: int, item_ids: Sequence[int], viewer: Viewer | None = None
    ) -> Pack:
        """Put the items the viewer sees in this order: `item_ids` names each of them once.
        Withheld items keep their slots; the visible items fill the others in the new order."""
        may_change(viewer)
        stored = self._stored(pack_id)
        seen = [i.item_id for i in self._seen(stored, viewer).items]
        if len(item_ids) != len(seen) or set(item_ids) != set(seen):
            raise InvalidRequestError(
                f"the new order must name each item of pack {pack_id} once: "
                f"{', '.join(map(str, seen)) or 'it has none'}"
            )
        moved = iter(item_ids)
        shown = set(seen)
        order = [next(moved) if i.item_id in shown else i.item_id for i in stored.items]
        self.store.order_pack_items(pack_id, order)
        return self.pack(pack_id, viewer)

    def move_pack_item(
        self, pack_id: int, item_id: int, to_index: int, viewer: Viewer | None = None
    ) -> Pack:
        """Move one item to `to_index` (0 is the first) among the items the viewer sees."""
        may_change(viewer)
        pack = self.pack(pack_id, viewer)
        self._item(pack, item_id)
        if not 0 <= to_index < len(pack.items):
            raise InvalidRequestError(
                f"to_index must be from 0 to {len(pack.items) - 1} in pack {pack_id}, "
                f"not {to_index}"
            )
        order = [i.item_id for i in pack.items if i.item_id != item_id]
        order.insert(to_index, item_id)
        return self.reorder_pack(pack_id, order, viewer)

    def duplicate_pack(
        self,
        pack_id: int,
        owner: str,
        title: str | None = None,
        viewer: Viewer | None = None,
    ) -> Pack:
        """A new pack owned by `owner` with the title, audience, objectives and the items the
        viewer sees (in order, with their notes); withheld items are not copied."""
        may_change(viewer)
        pack = self.pack(pack_id, viewer)
        if title is None:
            title = (COPY_PREFIX + pack.title)[:MAX_TITLE_CHARS]
        copy_id = self.store.copy_pack(
            clean_title(title), pack.audience, list(pack.objectives), owner, pack.items
        )
        return self.pack(copy_id, viewer)


def may_change(viewer: Viewer | None) -> None:
    if viewer is not None and not viewer.may("packs"):
        raise ForbiddenError(f"the {viewer.role} role may not change reading packs")


def clean_title(title: str) -> str:
    title = " ".join(title.split())
    if not title or len(title) > MAX_TITLE_CHARS:
        raise InvalidRequestError(f"a pack needs a title of 1 to {MAX_TITLE_CHARS} characters")
    return title


def clean_audience(audience: str) -> str:
    audience = " ".join(audience.split())
    if len(audience) > MAX_AUDIENCE_CHARS:
        raise InvalidRequestError(f"a pack's audience is at most {MAX_AUDIENCE_CHARS} characters")
    return audience


def clean_objectives(objectives: Sequence[str]) -> list[str]:
    if isinstance(objectives, str):  # one objective passed bare would become its letters
        raise InvalidRequestError("objectives are a list of texts")
    cleaned = [" ".join(o.split()) for o in objectives]
    if len(cleaned) > MAX_OBJECTIVES:
        raise InvalidRequestError(f"a pack has at most {MAX_OBJECTIVES} objectives")
    for objective in cleaned:
        if not objective or len(objective) > MAX_OBJECTIVE_CHARS:
            raise InvalidRequestError(f"each objective needs 1 to {MAX_OBJECTIVE_CHARS} characters")
    return cleaned


def clean_note(note: str) -> str:
    note = note.strip()
    if len(note) > MAX_NOTE_CHARS:
        raise InvalidRequestError(f"a note is at most {MAX_NOTE_CHARS} characters")
    return note
