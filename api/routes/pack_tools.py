"""Pack suggestions from a theme, and a pack's export as Markdown, HTML or PDF."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response

from api.deps import IdPath, KBDep, ReaderDep
from api.schemas.pack_tools import PackSuggestionPublic, PackSuggestRequest
from kb.metadata.filters import parse_filters
from kb.packs.export import MEDIA_TYPES, file_name, gather, render

router = APIRouter(tags=["packs"])


@router.post("/packs/suggest", response_model=PackSuggestionPublic)
def suggest(kb: KBDep, viewer: ReaderDep, body: PackSuggestRequest) -> PackSuggestionPublic:
    """Items for a theme among the documents the caller may see: spread over regions,
    decades, types and processes, each with why it was picked, in the order asked for."""
    suggestion = kb.suggest_pack(
        body.theme, parse_filters(body.filters), body.limit, body.order, viewer
    )
    return PackSuggestionPublic.of(suggestion)


@router.get(
    "/packs/{pack_id}/export",
    response_class=Response,
    responses={
        200: {
            "content": {t.split(";")[0]: {} for t in MEDIA_TYPES.values()},
            "description": "The pack as a file to download.",
        }
    },
)
def export(
    kb: KBDep, viewer: ReaderDep, pack_id: IdPath, format: Literal["md", "html", "pdf"] = "md"
) -> Response:
    """The pack with a cover, its items cited and quoted, and a bibliography; items the
    caller may not see are withheld (the export says how many)."""
    pack_export = gather(kb, pack_id, viewer)
    return Response(
        content=render(pack_export, format),
        media_type=MEDIA_TYPES[format],
        headers={
            "Content-Disposition": f'attachment; filename="{file_name(pack_export.pack, format)}"'
        },
    )
