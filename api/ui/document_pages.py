"""A document: its metadata and links, every passage with its page, and the original file."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from api.deps import KBDep
from api.ui.auth import PageViewerDep
from api.ui.templating import render
from kb.models import MAX_ID

router = APIRouter(prefix="/ui", include_in_schema=False)


@router.get("/documents/{document_id}")
def document_page(
    request: Request,
    kb: KBDep,
    viewer: PageViewerDep,
    document_id: str,
    chunk: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Response:
    """`chunk` marks the passage a search result pointed at; the page opens on it."""
    document = kb.get_document(document_id, viewer)
    chunks = kb.chunks(document_id, viewer)
    focus = next((c for c in chunks if c.chunk_id == chunk), None)
    return render(
        request,
        "document.html",
        viewer,
        document=document,
        chunks=chunks,
        focus=focus,
        relations=kb.relations(document_id, viewer),
        is_pdf=document.original is not None and document.original.media_type == "application/pdf",
        title=document.title,
    )
