"""Signing a browser in and out: the API key is exchanged for an HttpOnly session cookie."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response

from api.deps import check_same_origin, get_sessions, get_users, signin_gate
from api.schemas.core import SessionPublic
from api.sessions import COOKIE, Session
from kb.access import Viewer
from kb.errors import UnauthorizedError

router = APIRouter(tags=["session"])


@router.post("/session", response_model=SessionPublic, dependencies=[Depends(check_same_origin)])
def sign_in(
    request: Request,
    response: Response,
    api_key: Annotated[str, Form(description="The user's API key.", max_length=200)],
) -> SessionPublic:
    """Sign a browser in: sets an HttpOnly, SameSite=Strict session cookie and returns the
    CSRF token to send as `X-CSRF-Token` with every change. Wrong keys count toward the
    sign-in limit; a request whose `Origin` is another site gets 403."""
    limiter, address = signin_gate(request)
    viewer = get_users(request).authenticate(api_key.strip())
    if viewer is None:
        limiter.failed(address)
        raise UnauthorizedError("the API key is wrong, or its user is disabled")
    session = open_browser_session(request, response, viewer)
    return SessionPublic(
        name=viewer.name,
        role=viewer.role,
        clearance=viewer.clearance,
        groups=list(viewer.groups),
        csrf_token=session.csrf,
    )


def open_browser_session(request: Request, response: Response, viewer: Viewer) -> Session:
    """A new session for `viewer`, its cookie set on `response` (the API's and the UI's sign-in)."""
    sessions = get_sessions(request)
    token, session = sessions.open(viewer.name)
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(sessions.seconds),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return session


@router.delete("/session", status_code=204, dependencies=[Depends(check_same_origin)])
def sign_out(request: Request, response: Response) -> None:
    """Sign a browser out (its session ends at once); a request whose `Origin` is another
    site gets 403."""
    token = request.cookies.get(COOKIE)
    if token:
        get_sessions(request).close(token)
    response.delete_cookie(COOKIE, path="/")
