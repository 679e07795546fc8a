"""The Jinja2 environment of the pages, and the one way a page is rendered."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from api.ui.auth import page_session
from api.ui.flash import take
from kb.access import Viewer
from kb.errors import KBError

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def pages_label(start: int, end: int) -> str:
    return f"p. {start}" if start == end else f"pp. {start}–{end}"


def with_query(params: dict[str, Any], **changes: Any) -> str:
    """A query string: `params` with `changes` applied (None drops a key); a change to
    `filter` adds one more key=value pair."""
    merged = {**params, **changes}
    if "filter" in changes and changes["filter"] is not None:
        merged["filter"] = [*params.get("filter", []), changes["filter"]]
    pairs = []
    for key, value in merged.items():
        if value is None or value == "" or value == []:
            continue
        for one in value if isinstance(value, list | tuple) else [value]:
            pairs.append((key, one))
    return urlencode(pairs)


# A suggested filter as the search form's own fields take it; years become a date range.
def suggestion_link(key: str, value: str) -> dict[str, str]:
    if key in ("region", "stage"):
        return {key: value}
    if key == "year_min":
        return {"filter": f"date_from={value}"}
    if key == "year_max":
        return {"filter": f"date_to={value}"}
    return {"filter": f"{key}={value}"}


templates.env.filters["pages"] = lambda p: pages_label(p.page_start, p.page_end)
# A stored UTC timestamp (2026-11-27T15:17:19+00:00) as people read it: to the minute.
templates.env.filters["when"] = lambda t: f"{t[:10]} {t[11:16]} UTC" if t and len(t) >= 16 else t
templates.env.globals["with_query"] = with_query
templates.env.globals["suggestion_link"] = suggestion_link
templates.env.globals["without_filter"] = lambda params, pair: with_query(
    {**params, "filter": [p for p in params.get("filter", []) if p != pair]}, page=None
)


def render(
    request: Request,
    template: str,
    viewer: Viewer | None,
    status_code: int = 200,
    **context: Any,
) -> Response:
    session = page_session(request)
    flashes = take(request) if session is not None else []
    return templates.TemplateResponse(
        request,
        template,
        {"viewer": viewer, "csrf": session.csrf if session else "", "flashes": flashes, **context},
        status_code=status_code,
    )


HEADINGS = {
    401: "Please sign in",
    403: "Not allowed",
    404: "Not found",
    413: "Too large",
    422: "Please check what you entered",
    429: "Too many attempts",
    503: "Busy",
}


def error_page(request: Request, status: int, message: str) -> Response:
    """The UI's face of an error (the statuses are decided once, in api.errors)."""
    heading = HEADINGS.get(status, "Something went wrong")
    viewer = None
    session = page_session(request)
    if session is not None:
        try:
            viewer = request.app.state.users.viewer(session.name)
        except KBError:
            viewer = None
    return render(request, "error.html", viewer, status, heading=heading, message=message)
