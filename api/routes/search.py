"""Search for precedents."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api.deps import FiltersDep, KBDep, Offset, ReaderDep
from api.schemas.core import SearchRequest, SearchResponsePublic
from kb.metadata.filters import parse_filters
from kb.models import SearchRequest as CoreSearchRequest
from kb.search.searcher import MAX_LIMIT

router = APIRouter(tags=["search"])


@router.get("/search", response_model=SearchResponsePublic)
def search_get(
    kb: KBDep,
    viewer: ReaderDep,
    filters: FiltersDep,
    q: Annotated[str, Query(min_length=1, description="A few words or a whole crisis brief.")],
    mode: Literal["hybrid", "dense", "keyword"] = "hybrid",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 10,
    offset: Offset = 0,
) -> SearchResponsePublic:
    """Ranked precedents for a query: whole documents, each with its best passages and pages."""
    request = CoreSearchRequest(query=q, filters=filters, mode=mode, limit=limit, offset=offset)
    return SearchResponsePublic.of(kb.search(request, viewer), limit, offset)


@router.post("/search", response_model=SearchResponsePublic)
def search_post(kb: KBDep, viewer: ReaderDep, body: SearchRequest) -> SearchResponsePublic:
    """The same search with a JSON body, for long briefs and structured filters."""
    request = CoreSearchRequest(
        query=body.query,
        filters=parse_filters(body.filters),
        mode=body.mode,
        limit=body.limit,
        offset=body.offset,
    )
    return SearchResponsePublic.of(kb.search(request, viewer), body.limit, body.offset)
