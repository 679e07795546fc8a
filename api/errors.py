"""Every error becomes one JSON body: {"ok": false, "status", "error", "message"[, "detail"]},
or, on the web UI's pages, a page saying the same.

Each core error class is mapped to an HTTP status here, once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Match

from kb.errors import (
    ForbiddenError,
    InputError,
    InvalidMetadataError,
    InvalidRequestError,
    KBError,
    ModelMismatchError,
    NotFoundError,
    StoreBusyError,
    StoreError,
    TooLargeError,
    UnauthorizedError,
    UnsupportedTypeError,
)

log = logging.getLogger(__name__)

# Most specific first: the first class an error is an instance of decides its status.
STATUS_BY_ERROR: tuple[tuple[type[KBError], int], ...] = (
    (NotFoundError, 404),
    (UnauthorizedError, 401),
    (ForbiddenError, 403),
    (TooLargeError, 413),
    (UnsupportedTypeError, 415),
    (InputError, 422),
    (InvalidMetadataError, 422),
    (InvalidRequestError, 422),
    (ModelMismatchError, 409),
    (StoreBusyError, 503),
    (StoreError, 503),
    (KBError, 500),
)
# A busy store is free again once the other writer's transaction ends: seconds, not minutes.
RETRY_AFTER_SECONDS = 2
CODE_BY_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_type",
    422: "invalid_request",
    429: "rate_limited",
}
METHODS = ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT")
# RFC 6750: a 401 names the scheme the client should use.
CHALLENGE = {"WWW-Authenticate": "Bearer"}


def error_body(status: int, error: str, message: str, detail: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"ok": False, "status": status, "error": error, "message": message}
    if detail is not None:
        body["detail"] = detail
    return body


def status_of(error: KBError) -> int:
    return next(status for kind, status in STATUS_BY_ERROR if isinstance(error, kind))


def detail_of(error: KBError) -> list[dict[str, Any]] | None:
    """Machine-readable detail: for metadata, each file and field refused, and why."""
    if isinstance(error, InvalidMetadataError):
        return [{"source": p.source, "field": p.field, "reason": p.reason} for p in error.problems]
    return None


# Renders an error for a person (the web UI's pages) rather than for a program.
PageRenderer = Callable[[Request, int, str], Response]
PAGES = "/ui/"


def allowed_methods(app: FastAPI, request: Request) -> list[str]:
    """Every method some route of the app answers at this request's path (each asked of the
    router as that method: included routers nest their routes)."""
    return [
        method
        for method in METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in app.router.routes
        )
    ]


def install_error_handlers(app: FastAPI, page: PageRenderer | None = None) -> None:
    """One mapping of errors to statuses; answers in the one JSON shape, or as an HTML page
    under /ui/ when `page` is given."""

    def answer(
        request: Request,
        status: int,
        code: str,
        message: str,
        detail: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        if page is not None and request.url.path.startswith(PAGES):
            response = page(request, status, message)
            response.headers.update(headers or {})
            return response
        return JSONResponse(
            error_body(status, code, message, detail), status_code=status, headers=headers
        )

    @app.exception_handler(KBError)
    async def on_kb_error(request: Request, exc: KBError) -> Response:
        status = status_of(exc)
        if status >= 500:
            log.error("%s %s failed: %s", request.method, request.url.path, exc.message)
        headers = (
            {"Retry-After": str(RETRY_AFTER_SECONDS)}
            if isinstance(exc, StoreBusyError)
            else CHALLENGE
            if isinstance(exc, UnauthorizedError)
            else None
        )
        return answer(request, status, exc.code, exc.message, detail_of(exc), headers)

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, exc: RequestValidationError) -> Response:
        detail = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        fields = ", ".join(".".join(str(p) for p in d["loc"]) for d in detail)
        return answer(request, 422, "invalid_request", f"invalid request: {fields}", detail)

    @app.exception_handler(HTTPException)
    async def on_http(request: Request, exc: HTTPException) -> Response:
        code = CODE_BY_STATUS.get(exc.status_code, "error")
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            # Starlette names the methods of the one route it tried; a path may have several.
            headers["Allow"] = ", ".join(allowed_methods(app, request))
        return answer(request, exc.status_code, code, str(exc.detail), None, headers)

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception) -> Response:
        log.exception("%s %s failed", request.method, request.url.path)
        return answer(request, 500, "internal_error", "internal error; see the server log")
