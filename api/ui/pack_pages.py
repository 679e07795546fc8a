"""The trainers' reading packs: the list of packs, and the pack builder (edit the cover, read
the ordered items with their citations and passages). Anyone signed in may read a pack (the
items they may not see are counted as withheld); trainers and admins change packs, each change
a POST with the session's CSRF token answered by a redirect back to the page (303).

Items are changed in api/ui/pack_item_pages.py; suggestions in api/ui/pack_suggest_pages.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from api.deps import IdPath, KBDep
from api.ui.auth import PageTrainerDep, PageViewerDep, check_csrf
from api.ui.flash import flash
from api.ui.page_memory import last_pack, remember_pack
from api.ui.templating import pages_label, render, templates
from kb.access import Viewer
from kb.knowledge_base import KnowledgeBase
from kb.models import Chunk, Document, Pack, PackItem

router = APIRouter(prefix="/ui/packs", include_in_schema=False)
PER_PAGE = 50
QUOTE_CHARS = 700  # the builder shows the start of a long passage; the export quotes more
CsrfForm = Annotated[str, Form(max_length=200)]
TextForm = Annotated[str, Form(max_length=20_000)]


@dataclass(frozen=True)
class ItemView:
    """One item as the builder shows it: its citation, its passage and the trainer's note."""

    item: PackItem
    title: str
    doc_type: str
    date: str | None
    pages: str
    heading: str | None
    passage: str
    present: bool  # False: the document or passage is gone (replaced or deleted)


def item_views(kb: KnowledgeBase, pack: Pack) -> list[ItemView]:
    documents, chunks = kb.pack_contents(pack)
    return [view_of(item, documents, chunks) for item in pack.items]


def view_of(item: PackItem, documents: dict[str, Document], chunks: dict[int, Chunk]) -> ItemView:
    document = documents.get(item.document_id)
    chunk = chunks.get(item.chunk_id) if item.chunk_id is not None else None
    gone = document is None or (item.chunk_id is not None and chunk is None)
    passage = chunk.text if chunk is not None else ""
    if len(passage) > QUOTE_CHARS:
        passage = passage[:QUOTE_CHARS].rsplit(" ", 1)[0] + " …"
    return ItemView(
        item=item,
        title=document.title if document is not None else item.document_id,
        doc_type=document.doc_type if document is not None else "",
        date=document.date if document is not None else None,
        pages=pages_label(chunk.page_start, chunk.page_end) if chunk is not None else "",
        heading=chunk.heading if chunk is not None else None,
        passage=passage,
        present=not gone,
    )


def lines(text: str) -> list[str]:
    """Objectives as typed, one a line; blank lines are dropped."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def owner_of(viewer: Viewer) -> str:
    return f"ui:{viewer.name}"


def pack_choices(request: Request, viewer: Viewer) -> tuple[list[Pack], int | None]:
    """The packs a trainer may add to (newest first) and the one to offer first: `?pack=` in
    the page's address, else the pack this session last added to. Read once per page."""
    cached: tuple[list[Pack], int | None] | None = getattr(request.state, "pack_choices", None)
    if cached is not None:
        return cached
    kb: KnowledgeBase = request.app.state.kb
    _, packs = kb.list_packs(PER_PAGE, 0, viewer)
    chosen: int | None = None
    asked = request.query_params.get("pack", "")
    if asked.isdigit():
        chosen = int(asked)
    else:
        chosen = last_pack(request)
    request.state.pack_choices = packs, chosen
    return packs, chosen


# The "Add to pack" control (pack_add.html) is included in shared templates: it finds its
# packs through this global rather than through every page that shows it.
templates.env.globals["pack_choices"] = pack_choices


def back_to(pack_id: int, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(f"/ui/packs/{pack_id}{anchor}", status_code=303)


@router.get("")
def packs_page(
    request: Request,
    kb: KBDep,
    viewer: PageViewerDep,
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
) -> Response:
    total, packs = kb.list_packs(PER_PAGE, (page - 1) * PER_PAGE, viewer)
    return render(
        request,
        "pack_list.html",
        viewer,
        packs=packs,
        total=total,
        page=page,
        per_page=PER_PAGE,
        params={},
        title="Reading packs",
    )


@router.post("")
def create_pack(
    request: Request,
    kb: KBDep,
    viewer: PageTrainerDep,
    csrf: CsrfForm = "",
    title: TextForm = "",
    audience: TextForm = "",
    objectives: TextForm = "",
) -> Response:
    check_csrf(request, csrf)
    pack = kb.create_pack(title, owner_of(viewer), audience, lines(objectives), viewer)
    remember_pack(request, pack.pack_id)
    flash(request, f"Pack “{pack.title}” created. Add documents and passages from the search.")
    return back_to(pack.pack_id)


@router.get("/{pack_id}")
def builder_page(request: Request, kb: KBDep, viewer: PageViewerDep, pack_id: IdPath) -> Response:
    pack = kb.pack(pack_id, viewer)
    return render(
        request,
        "pack_builder.html",
        viewer,
        pack=pack,
        items=item_views(kb, pack),
        owner=pack.owner.split(":", 1)[-1],
        title=pack.title,
    )


@router.post("/{pack_id}")
def edit_pack(
    request: Request,
    kb: KBDep,
    viewer: PageTrainerDep,
    pack_id: IdPath,
    csrf: CsrfForm = "",
    title: TextForm = "",
    audience: TextForm = "",
    objectives: TextForm = "",
) -> Response:
    check_csrf(request, csrf)
    kb.edit_pack(pack_id, title, audience, lines(objectives), viewer)
    flash(request, "Saved the title, audience and objectives.")
    return back_to(pack_id)


@router.post("/{pack_id}/duplicate")
def duplicate_pack(
    request: Request, kb: KBDep, viewer: PageTrainerDep, pack_id: IdPath, csrf: CsrfForm = ""
) -> Response:
    check_csrf(request, csrf)
    copy = kb.duplicate_pack(pack_id, owner_of(viewer), None, viewer)
    flash(request, f"Made “{copy.title}”, a copy with the items you can see.")
    return back_to(copy.pack_id)


@router.post("/{pack_id}/delete")
def delete_pack(
    request: Request,
    kb: KBDep,
    viewer: PageTrainerDep,
    pack_id: IdPath,
    csrf: CsrfForm = "",
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    check_csrf(request, csrf)
    pack = kb.pack(pack_id, viewer)
    if confirm != "yes":  # the form's checkbox: a stray click deletes nothing
        flash(request, f"“{pack.title}” was not deleted: tick the box to confirm.")
        return RedirectResponse("/ui/packs", status_code=303)
    kb.delete_pack(pack_id, viewer)
    flash(request, f"Deleted the pack “{pack.title}”.")
    return RedirectResponse("/ui/packs", status_code=303)
