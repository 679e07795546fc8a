"""Changing a pack's items from the pages: add a document or passage (from the search, a
document's page or the suggestions), write a note, move an item up or down, remove it.

Each is a plain form POST with the session's CSRF token, answered by a redirect (303) back to
where the trainer was: the builder at the item's anchor, or the search they came from.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from api.deps import IdPath, KBDep
from api.ui.auth import PageTrainerDep, check_csrf
from api.ui.flash import flash
from api.ui.pack_pages import CsrfForm, back_to
from api.ui.page_memory import remember_pack
from api.ui.signin_pages import safe_next
from api.ui.templating import pages_label
from kb.errors import InvalidRequestError, NotFoundError
from kb.knowledge_base import KnowledgeBase
from kb.models import MAX_ID, Pack

router = APIRouter(prefix="/ui", include_in_schema=False)
MAX_AT_ONCE = 50  # "Add all" of the largest suggestion
IdForm = Annotated[str, Form(max_length=500)]
NoteForm = Annotated[str, Form(max_length=20_000)]
BackForm = Annotated[str, Form(max_length=4000)]


def chunk_of(raw: str) -> int | None:
    """A passage's id as a form sends it; "" means the whole document."""
    raw = raw.strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) > MAX_ID:
        raise InvalidRequestError(f"a passage is named by a number up to {MAX_ID}, not {raw!r}")
    return int(raw)


def added_message(kb: KnowledgeBase, pack: Pack, document_id: str, chunk_id: int | None) -> str:
    documents, chunks = kb.pack_contents(pack)
    title = documents[document_id].title if document_id in documents else document_id
    chunk = chunks.get(chunk_id) if chunk_id is not None else None
    what = f"“{title}”"
    if chunk is not None:
        what = f"a passage ({pages_label(chunk.page_start, chunk.page_end)}) of {what}"
    return f"Added {what} to the pack “{pack.title}”."


@router.post("/add-to-pack")
def add_to_pack(
    request: Request,
    kb: KBDep,
    viewer: PageTrainerDep,
    csrf: CsrfForm = "",
    pack_id: Annotated[int, Form(ge=0, le=MAX_ID)] = 0,
    document_id: IdForm = "",
    chunk_id: IdForm = "",
    note: NoteForm = "",
    back: BackForm = "/ui/",
) -> Response:
    """From a precedent card or a document's page: the pack is chosen in the form."""
    check_csrf(request, csrf)
    chunk = chunk_of(chunk_id)
    pack = kb.add_to_pack(pack_id, document_id, chunk, note, viewer)
    remember_pack(request, pack_id)
    flash(request, added_message(kb, pack, document_id, chunk))
    return RedirectResponse(safe_next(back), status_code=303)


@router.post("/packs/{pack_id}/items")
def add_items(
    request: Request,
    kb: KBDep,
    viewer: PageTrainerDep,
    pack_id: IdPath,
    csrf: CsrfForm = "",
    # (max_length on a list counts its entries; the core checks each note's length)
    document_id: Annotated[list[str], Form(max_length=MAX_AT_ONCE)] = [],  # noqa: B006
    chunk_id: Annotated[list[str], Form(max_length=MAX_AT_ONCE)] = [],  # noqa: B006
    note: Annotated[list[str], Form(max_length=MAX_AT_ONCE)] = [],  # noqa: B006
    back: BackForm = "",
) -> Response:
    """One item or many (the suggestions' "Add all"): the lists go in step, one entry each."""
    check_csrf(request, csrf)
    if not document_id:
        raise InvalidRequestError(f"add 1 to {MAX_AT_ONCE} items at once")
    if not len(document_id) == len(chunk_id) == len(note):
        raise InvalidRequestError("each item needs its document, passage and note")
    chunks = [chunk_of(c) for c in chunk_id]
    # All or none: a missing pack, document or passage is named and nothing is added.
    pack = kb.add_all_to_pack(pack_id, list(zip(document_id, chunks, note, strict=True)), viewer)
    remember_pack(request, pack_id)
    count = len(document_id)
    flash(request, f"Added {count} item{'s' if count != 1 else ''} to “{pack.title}”.")
    if back:
        return RedirectResponse(safe_next(back), status_code=303)
    return back_to(pack_id, f"#item-{pack.items[-1].item_id}")


@router.post("/packs/{pack_id}/items/{item_id}/note")
def write_note(
    request: Request,
    kb: KBDep,
    viewer: PageTrainerDep,
    pack_id: IdPath,
    item_id: IdPath,
    csrf: CsrfForm = "",
    note: NoteForm = "",
) -> Response:
    check_csrf(request, csrf)
    kb.edit_pack_item(pack_id, item_id, note, viewer)
    flash(request, "Note saved.")
    return back_to(pack_id, f"#item-{item_id}")


@router.post("/packs/{pack_id}/items/{item_id}/move")
def move_item(
    request: Request,
    kb: KBDep,
    viewer: PageTrainerDep,
    pack_id: IdPath,
    item_id: IdPath,
    csrf: CsrfForm = "",
    direction: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Move up or down one place among the items the trainer sees; at an end, nothing moves."""
    check_csrf(request, csrf)
    if direction not in ("up", "down"):
        raise InvalidRequestError(f"direction must be up or down, not {direction!r}")
    pack = kb.pack(pack_id, viewer)
    at = next((i.position for i in pack.items if i.item_id == item_id), None)
    if at is None:  # a withheld item answers like a missing one (the core's words)
        raise NotFoundError(f"pack {pack_id} has no item {item_id}")
    to = at - 1 if direction == "up" else at + 1
    if 0 <= to < len(pack.items):
        kb.move_pack_item(pack_id, item_id, to, viewer)
    return back_to(pack_id, f"#item-{item_id}")


@router.post("/packs/{pack_id}/items/{item_id}/remove")
def remove_item(
    request: Request,
    kb: KBDep,
    viewer: PageTrainerDep,
    pack_id: IdPath,
    item_id: IdPath,
    csrf: CsrfForm = "",
) -> Response:
    check_csrf(request, csrf)
    kb.remove_from_pack(pack_id, item_id, viewer)
    flash(request, "Item removed from the pack.")
    return back_to(pack_id, "#items")
