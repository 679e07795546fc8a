"""Suggestions for a pack: a theme and the search page's filters give items spread over
processes, regions, decades and types, each with why it was picked; the trainer adds them one
by one or all at once (the why becomes the item's note, to edit on the builder)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from api.deps import IdPath, KBDep
from api.ui.auth import PageViewerDep
from api.ui.search_pages import PERIODS, filters_of
from api.ui.templating import render, with_query
from kb.errors import InvalidRequestError
from kb.models import DOC_TYPES
from kb.packs.suggesting import MAX_SUGGESTIONS, ORDERS, PackSuggestion

router = APIRouter(prefix="/ui/packs", include_in_schema=False)


@router.get("/{pack_id}/suggest")
def suggest_page(
    request: Request,
    kb: KBDep,
    viewer: PageViewerDep,
    pack_id: IdPath,
    theme: Annotated[str, Query(max_length=5000)] = "",
    doc_type: Annotated[list[str], Query()] = [],  # noqa: B006 - FastAPI copies query defaults
    region: Annotated[str, Query(max_length=200)] = "",
    period: str = "",
    limit: Annotated[int, Query(ge=1, le=MAX_SUGGESTIONS)] = 8,
    order: str = "relevance",
) -> Response:
    """Readers may look too (it changes nothing); only trainers see the Add buttons."""
    pack = kb.pack(pack_id, viewer)
    params: dict[str, Any] = {
        "theme": theme,
        "doc_type": doc_type,
        "region": region,
        "period": period,
        "limit": limit,
        "order": order,
    }
    suggestion: PackSuggestion | None = None
    error = None
    if theme.strip():
        try:
            filters = filters_of(doc_type, region, "", period, [])
            suggestion = kb.suggest_pack(theme, filters, limit, order, viewer)
        except InvalidRequestError as exc:
            error = str(exc)
    in_pack = {(i.document_id, i.chunk_id) for i in pack.items}
    return render(
        request,
        "pack_suggest.html",
        viewer,
        pack=pack,
        params=params,
        suggestion=suggestion,
        in_pack=in_pack,
        back=f"/ui/packs/{pack_id}/suggest?{with_query(params)}",
        error=error,
        doc_types=DOC_TYPES,
        periods=PERIODS,
        orders=ORDERS,
        max_limit=MAX_SUGGESTIONS,
        title=f"Suggestions for {pack.title}",
    )
