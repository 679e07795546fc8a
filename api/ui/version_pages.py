"""A document's versions: the list (number, date, source file, who uploaded it) and an earlier
version's fields and passages, as history keeps them (search never sees them)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from api.deps import KBDep
from api.ui.auth import PageWriterDep, require_page
from api.ui.templating import render
from kb.access import Viewer
from kb.knowledge_base import KnowledgeBase
from kb.models import AuditEntry

router = APIRouter(prefix="/ui", include_in_schema=False)
PageAdminDep = Annotated[Viewer, require_page("admin")]
AUDIT_LINES = 500  # enough for every upload of a document with a long history


@router.get("/documents/{document_id}/versions")
def versions_page(request: Request, kb: KBDep, viewer: PageWriterDep, document_id: str) -> Response:
    document = kb.get_document(document_id, viewer)
    versions = kb.versions(document_id, viewer)
    return render(
        request,
        "versions.html",
        viewer,
        title=f"Versions of {document.title}",
        document=document,
        versions=versions,
        uploaders=uploaders(kb, document_id, viewer),
    )


@router.get("/documents/{document_id}/versions/{number}")
def version_page(
    request: Request,
    kb: KBDep,
    viewer: PageWriterDep,
    document_id: str,
    number: Annotated[int, Path(ge=1, le=1_000_000)],
) -> Response:
    document = kb.get_document(document_id, viewer)
    if number == document.version:
        versions = kb.versions(document_id, viewer)
        current = versions[0]
        passages = [
            {
                "ordinal": c.ordinal,
                "text": c.text,
                "heading": c.heading,
                "page_start": c.page_start,
                "page_end": c.page_end,
            }
            for c in kb.chunks(document_id, viewer)
        ]
        version, is_current = current, True
    else:
        version, passages = kb.version(document_id, number, viewer)
        is_current = False
    return render(
        request,
        "version.html",
        viewer,
        title=f"Version {version.version} of {document.title}",
        document=document,
        version=version,
        passages=passages,
        is_current=is_current,
        uploaders=uploaders(kb, document_id, viewer),
    )


@router.get("/documents/{document_id}/audit")
def audit_page(request: Request, kb: KBDep, viewer: PageAdminDep, document_id: str) -> Response:
    """Admins: every change to one document, newest first, with the fields it changed."""
    document = kb.get_document(document_id, viewer)
    total, entries = kb.audit(document_id, limit=AUDIT_LINES, viewer=viewer)
    return render(
        request,
        "audit.html",
        viewer,
        title=f"Changes to {document.title}",
        document=document,
        total=total,
        entries=[(entry, changed(entry)) for entry in entries],
    )


def changed(entry: AuditEntry) -> list[tuple[str, Any, Any]]:
    """An edit's changes field by field; metadata, a whole object, by its own keys."""
    before, after = dict(entry.before or {}), dict(entry.after or {})
    found: list[tuple[str, Any, Any]] = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            found.extend(
                (f"{key}.{k}", old.get(k), new.get(k))
                for k in sorted(set(old) | set(new))
                if old.get(k) != new.get(k)
            )
        elif old != new:
            found.append((key, old, new))
    return found


def uploaders(kb: KnowledgeBase, document_id: str, viewer: Viewer) -> dict[int, str]:
    """Who brought in each version, from the audit log (its add and replace lines)."""
    _, entries = kb.audit(document_id, limit=AUDIT_LINES, viewer=viewer)
    found: dict[int, str] = {}
    for entry in entries:
        version = (entry.after or {}).get("version")
        if entry.action in ("add", "replace") and isinstance(version, int):
            found.setdefault(version, entry.actor)
    return found
