"""Reading packs: list, read, create, edit, duplicate and delete packs; add, annotate, remove
and reorder their items. Anyone may read a pack (only the items they may see; the rest are
counted as withheld); trainers and admins change them. (Suggest and export live beside this,
in api/routes/pack_tools.py.)"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Response, status

from api.deps import ActorDep, IdPath, KBDep, Offset, ReaderDep, TrainerDep
from api.schemas.packs import (
    PackCreateRequest,
    PackDuplicateRequest,
    PackEditRequest,
    PackItemRequest,
    PackNoteRequest,
    PackOrderRequest,
    PackPublic,
    PacksPublic,
    PackSummaryPublic,
)
from kb.knowledge_base import KnowledgeBase
from kb.models import Pack
from kb.search.searcher import MAX_LIMIT

router = APIRouter(prefix="/packs", tags=["packs"])


def public(kb: KnowledgeBase, pack: Pack) -> PackPublic:
    return PackPublic.of(pack, *kb.pack_contents(pack))


@router.get("", response_model=PacksPublic)
def list_packs(
    kb: KBDep,
    viewer: ReaderDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
    offset: Offset = 0,
) -> PacksPublic:
    """Every pack, most recently changed first, with how many items you see in each."""
    total, packs = kb.list_packs(limit, offset, viewer)
    return PacksPublic(
        total=total, limit=limit, offset=offset, items=[PackSummaryPublic.of(p) for p in packs]
    )


@router.post("", response_model=PackPublic, status_code=status.HTTP_201_CREATED)
def create_pack(
    kb: KBDep, viewer: TrainerDep, actor: ActorDep, body: PackCreateRequest
) -> PackPublic:
    """Start an empty pack; you are its owner, though any trainer may change it."""
    pack = kb.create_pack(body.title, actor, body.audience, body.objectives, viewer)
    return public(kb, pack)


@router.get("/{pack_id}", response_model=PackPublic)
def get_pack(kb: KBDep, viewer: ReaderDep, pack_id: IdPath) -> PackPublic:
    """A pack with the items you may see, in order, each with its document's title, type and
    date and, for a passage, its pages and text."""
    return public(kb, kb.pack(pack_id, viewer))


@router.patch("/{pack_id}", response_model=PackPublic)
def edit_pack(kb: KBDep, viewer: TrainerDep, pack_id: IdPath, body: PackEditRequest) -> PackPublic:
    """Change the title, audience or objectives; what is left out stays."""
    pack = kb.edit_pack(pack_id, body.title, body.audience, body.objectives, viewer)
    return public(kb, pack)


@router.delete("/{pack_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def delete_pack(kb: KBDep, viewer: TrainerDep, pack_id: IdPath) -> Response:
    """Delete a pack and its items (the documents stay)."""
    kb.delete_pack(pack_id, viewer)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{pack_id}/duplicate", response_model=PackPublic, status_code=status.HTTP_201_CREATED)
def duplicate_pack(
    kb: KBDep,
    viewer: TrainerDep,
    actor: ActorDep,
    pack_id: IdPath,
    body: Annotated[PackDuplicateRequest | None, Body()] = None,
) -> PackPublic:
    """A copy you own, titled "Copy of ..." unless you name it, with the items you see."""
    title = body.title if body is not None else None
    return public(kb, kb.duplicate_pack(pack_id, actor, title, viewer))


@router.post("/{pack_id}/items", response_model=PackPublic, status_code=status.HTTP_201_CREATED)
def add_item(kb: KBDep, viewer: TrainerDep, pack_id: IdPath, body: PackItemRequest) -> PackPublic:
    """Append a document, or one of its passages, with a note."""
    pack = kb.add_to_pack(pack_id, body.document_id, body.chunk_id, body.note, viewer)
    return public(kb, pack)


@router.patch("/{pack_id}/items/{item_id}", response_model=PackPublic)
def edit_item(
    kb: KBDep, viewer: TrainerDep, pack_id: IdPath, item_id: IdPath, body: PackNoteRequest
) -> PackPublic:
    """Replace an item's note."""
    return public(kb, kb.edit_pack_item(pack_id, item_id, body.note, viewer))


@router.delete("/{pack_id}/items/{item_id}", response_model=PackPublic)
def remove_item(kb: KBDep, viewer: TrainerDep, pack_id: IdPath, item_id: IdPath) -> PackPublic:
    """Take an item out of the pack; the pack as it is now."""
    return public(kb, kb.remove_from_pack(pack_id, item_id, viewer))


@router.put("/{pack_id}/order", response_model=PackPublic)
def reorder_pack(
    kb: KBDep, viewer: TrainerDep, pack_id: IdPath, body: PackOrderRequest
) -> PackPublic:
    """Put the items you see in a new order; items withheld from you keep their places."""
    return public(kb, kb.reorder_pack(pack_id, body.item_ids, viewer))
