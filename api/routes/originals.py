"""Original files: the PDF (or Word, HTML, text) a document was read from, served inline so a
link to `/documents/ID/original#page=N` opens the cited page in the browser's own viewer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse

from api.deps import IdPath, KBDep, ReaderDep
from ingest.readers import MEDIA_TYPES
from kb.models import Original

router = APIRouter(prefix="/documents", tags=["documents"])

# Our own pages may frame an original (a PDF beside its passages); no other site may.
FRAMING = {"X-Frame-Options": "SAMEORIGIN", "Cache-Control": "private, no-cache"}
# Uploaded HTML is someone else's markup: shown in a sandbox (a unique origin, no scripts,
# nothing loaded from anywhere), so it can neither act as the signed-in user nor call home.
# PDFs get no CSP: Chromium's PDF viewer refuses to run inside a sandboxed document.
UPLOADED_HTML_POLICY = (
    "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'self'"
)
MARKUP = ("text/html", "application/xhtml+xml")
# What an original is served as: the media type ingest recorded for its kind of file (an
# unknown kind, none so far, would be octet-stream). Never JSON.
SERVED_TYPES = (*sorted(set(MEDIA_TYPES.values())), "application/octet-stream")
ORIGINAL_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            media_type: {"schema": {"type": "string", "format": "binary"}}
            for media_type in SERVED_TYPES
        },
        "description": "The file as it was ingested, byte for byte, shown inline, with the "
        "media type recorded for it (PDF, Word, HTML, XHTML, plain text or Markdown).",
    }
}


@router.get("/{document_id}/original", response_class=FileResponse, responses=ORIGINAL_RESPONSES)
def get_original(kb: KBDep, viewer: ReaderDep, document_id: str) -> FileResponse:
    """The file the document was read from, byte for byte (append `#page=N` to a PDF's link
    to open it at a page). 404 for a document added before originals were kept."""
    return _served(*kb.original(document_id, viewer))


@router.get(
    "/{document_id}/versions/{version}/original",
    response_class=FileResponse,
    responses=ORIGINAL_RESPONSES,
)
def get_version_original(
    kb: KBDep, viewer: ReaderDep, document_id: str, version: IdPath
) -> FileResponse:
    """The file one version (current or earlier) was read from."""
    return _served(*kb.version_original(document_id, version, viewer))


def _served(original: Original, path: Path) -> FileResponse:
    headers = dict(FRAMING)
    if original.media_type in MARKUP:
        headers["Content-Security-Policy"] = UPLOADED_HTML_POLICY
    return FileResponse(
        path,
        media_type=original.media_type,
        filename=original.name,
        content_disposition_type="inline",
        headers=headers,
    )
