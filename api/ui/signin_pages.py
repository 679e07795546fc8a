"""Signing in and out of the web UI with an API key; the browser keeps only a session cookie."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from starlette.exceptions import HTTPException
from starlette.responses import Response

from api.deps import check_same_origin, get_sessions, get_users, signin_gate
from api.routes.session import open_browser_session
from api.sessions import COOKIE
from api.ui.auth import check_csrf, page_session
from api.ui.templating import render

router = APIRouter(prefix="/ui", include_in_schema=False)
HOME = "/ui/"


def safe_next(target: str | None) -> str:
    """Only our own pages: a sign-in link must not send the user to another site."""
    if target and target.startswith("/ui") and not target.startswith("//") and "\\" not in target:
        return target
    return HOME


@router.get("/signin")
def signin_page(request: Request, next: str | None = None) -> Response:
    if page_session(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "signin.html", None, next=safe_next(next), error=None)


@router.post("/signin", dependencies=[Depends(check_same_origin)])
def signin(
    request: Request,
    api_key: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = HOME,
) -> Response:
    target = safe_next(next)
    try:
        limiter, address = signin_gate(request)
    except HTTPException as exc:  # too many wrong keys from this address
        return render(request, "signin.html", None, 429, next=target, error=exc.detail)
    viewer = get_users(request).authenticate(api_key.strip()) if api_key.strip() else None
    if viewer is None:
        limiter.failed(address)
        error = "That API key is wrong, or its user is disabled."
        return render(request, "signin.html", None, 401, next=target, error=error)
    response = RedirectResponse(target, status_code=303)
    open_browser_session(request, response, viewer)
    return response


@router.post("/signout", dependencies=[Depends(check_same_origin)])
def signout(request: Request, csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    check_csrf(request, csrf)
    token = request.cookies.get(COOKIE)
    if token:
        get_sessions(request).close(token)
    response = RedirectResponse("/ui/signin", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response
