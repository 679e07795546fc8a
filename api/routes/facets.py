"""Facet counts beside a search: how many documents have each type, region, period, stage and
classification, among those the filters pass and the caller may see."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import FiltersDep, KBDep, ReaderDep
from api.schemas.facets import FacetsPublic

router = APIRouter(tags=["search"])


@router.get("/facets", response_model=FacetsPublic)
def get_facets(kb: KBDep, viewer: ReaderDep, filters: FiltersDep) -> FacetsPublic:
    """Counts per value of doc_type, region, period (decade, e.g. "2000s"), stage and
    classification, most frequent first, over the documents that meet the same filters as
    GET /search."""
    return FacetsPublic.of(kb.facets(filters, viewer))
