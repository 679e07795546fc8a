"""The negotiator's page: one box for a few words or a whole brief, filters, precedent cards."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from api.deps import KBDep
from api.ui.auth import PageViewerDep
from api.ui.templating import render
from kb.errors import InvalidRequestError
from kb.facets import Facets
from kb.metadata.filters import parse_filters, split_pairs
from kb.models import DOC_TYPES, MODES, Document, Filters, SearchRequest, SearchResponse

router = APIRouter(prefix="/ui", include_in_schema=False)
PER_PAGE = 10
MAX_QUERY_CHARS = 20_000  # a page-long brief fits many times over
PERIODS = ("1990s", "2000s", "2010s", "2020s")


@router.get("")
def ui_root() -> Response:
    return RedirectResponse("/ui/", status_code=307)


@router.get("/")
def search_page(
    request: Request,
    kb: KBDep,
    viewer: PageViewerDep,
    q: Annotated[str, Query(max_length=MAX_QUERY_CHARS)] = "",
    mode: str = "hybrid",
    doc_type: Annotated[list[str], Query()] = [],  # noqa: B006 - FastAPI copies query defaults
    region: str = "",
    stage: str = "",
    period: str = "",
    filter: Annotated[list[str], Query()] = [],  # noqa: B006 - any other key=value
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
) -> Response:
    params: dict[str, Any] = {
        "filter": filter,
        "q": q,
        "mode": mode,
        "doc_type": doc_type,
        "region": region,
        "stage": stage,
        "period": period,
    }
    error = None
    response: SearchResponse | None = None
    facets: Facets | None = None
    browse: tuple[int, list[Document]] | None = None
    try:
        filters = filters_of(doc_type, region, stage, period, filter)
        facets = kb.facets(filters, viewer)
        if not q.strip():
            browse = kb.list_documents(filters, PER_PAGE, (page - 1) * PER_PAGE, viewer)
        else:
            response = kb.search(
                SearchRequest(
                    q,
                    filters,
                    mode if mode in MODES else "hybrid",
                    PER_PAGE,
                    (page - 1) * PER_PAGE,
                ),
                viewer,
            )
    except InvalidRequestError as exc:
        error = str(exc)
    return render(
        request,
        "search.html",
        viewer,
        params=params,
        page=page,
        response=response,
        facets=facets,
        browse=browse,
        error=error,
        doc_types=DOC_TYPES,
        modes=MODES,
        periods=PERIODS,
        stages=stage_choices(request),
        title="Search",
        per_page=PER_PAGE,
    )


@router.get("/similar/{document_id}")
def similar_page(
    request: Request,
    kb: KBDep,
    viewer: PageViewerDep,
    document_id: str,
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
) -> Response:
    """More like this: the documents closest in meaning to one document."""
    document = kb.get_document(document_id, viewer)
    response = kb.similar(document_id, Filters(), PER_PAGE, (page - 1) * PER_PAGE, viewer)
    return render(
        request,
        "similar.html",
        viewer,
        document=document,
        response=response,
        page=page,
        params={},
        per_page=PER_PAGE,
        title=f"More like {document.title}",
    )


def filters_of(
    doc_types: list[str], region: str, stage: str, period: str, pairs: list[str]
) -> Filters:
    raw: dict[str, list[str]] = split_pairs(pairs)
    if doc_types:
        raw.setdefault("doc_type", []).extend(doc_types)
    if region.strip():
        raw["region"] = [region.strip()]
    if stage.strip():
        raw["stage"] = [stage.strip()]
    if period:
        if period not in PERIODS:
            raise InvalidRequestError(f"unknown period {period!r}")
        start = int(period[:4])
        raw["date_from"] = [str(start)]
        raw["date_to"] = [str(start + 9)]
    return parse_filters(raw)


def stage_choices(request: Request) -> tuple[str, ...]:
    stage = request.app.state.metadata_schema.fields.get("stage")
    return tuple(stage.choices) if stage is not None and stage.choices else ()
