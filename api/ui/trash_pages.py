"""Deleting a document to the trash, the trash itself, restoring, and (admins) purging.

Each change is a form with the session's CSRF token, confirmed on the page before it is sent
(a disclosure holding the real button, so it works without JavaScript), answered by a
redirect to the page that shows the result.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from api.deps import KBDep
from api.ui.auth import PageWriterDep, check_csrf
from api.ui.flash import flash
from api.ui.templating import render
from kb.errors import ForbiddenError

router = APIRouter(prefix="/ui", include_in_schema=False)
PER_PAGE = 20
CsrfForm = Annotated[str, Form(max_length=200)]


@router.post("/documents/{document_id}/delete")
def delete(
    request: Request, kb: KBDep, viewer: PageWriterDep, document_id: str, csrf: CsrfForm = ""
) -> Response:
    check_csrf(request, csrf)
    document = kb.delete(document_id, f"ui:{viewer.name}", viewer)
    until = kb.purge_after(document) or ""
    flash(
        request,
        f"Moved “{document.title}” to the trash. It can be restored until {until[:10]}.",
    )
    return RedirectResponse("/ui/trash", status_code=303)


@router.get("/trash")
def trash_page(
    request: Request,
    kb: KBDep,
    viewer: PageWriterDep,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    total, documents = kb.trash(PER_PAGE, (page - 1) * PER_PAGE, viewer)
    return render(
        request,
        "trash.html",
        viewer,
        title="Trash",
        total=total,
        items=[(d, kb.purge_after(d)) for d in documents],
        page=page,
        per_page=PER_PAGE,
        params={},
        trash_days=kb.settings.trash_days,
    )


@router.post("/trash/{document_id}/restore")
def restore(
    request: Request, kb: KBDep, viewer: PageWriterDep, document_id: str, csrf: CsrfForm = ""
) -> Response:
    check_csrf(request, csrf)
    document = kb.restore(document_id, f"ui:{viewer.name}", viewer)
    flash(request, f"Restored “{document.title}”: it is searchable again.")
    return RedirectResponse(f"/ui/documents/{document.document_id}", status_code=303)


@router.post("/trash/{document_id}/purge")
def purge(
    request: Request, kb: KBDep, viewer: PageWriterDep, document_id: str, csrf: CsrfForm = ""
) -> Response:
    check_csrf(request, csrf)
    if not viewer.may("admin"):
        raise ForbiddenError(f"the {viewer.role} role may not purge documents")
    kb.purge(document_id, f"ui:{viewer.name}", viewer)
    flash(request, f"Purged {document_id} for good: its text is gone.")
    return RedirectResponse("/ui/trash", status_code=303)
