"""Who is looking at a page: the user of the browser session, or a redirect to sign in."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse

from api.deps import get_sessions, get_users
from api.sessions import COOKIE, Session, csrf_matches
from kb.access import Viewer
from kb.errors import ForbiddenError, NotFoundError, UnauthorizedError


class SignInNeeded(Exception):
    """A page was asked for without a live session: the answer is the sign-in page."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def redirect_to_signin(request: Request, exc: SignInNeeded) -> RedirectResponse:
    return RedirectResponse(f"/ui/signin?next={quote(exc.next_url, safe='/')}", status_code=303)


def page_session(request: Request) -> Session | None:
    token = request.cookies.get(COOKIE)
    return get_sessions(request).find(token) if token else None


def page_viewer(request: Request) -> Viewer:
    """The signed-in user; a missing, expired or disabled session goes to the sign-in page."""
    session = page_session(request)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if session is None:
        raise SignInNeeded(target)
    try:
        return get_users(request).viewer(session.name)
    except (UnauthorizedError, NotFoundError) as exc:
        raise SignInNeeded(target) from exc


def check_csrf(request: Request, sent: str | None) -> None:
    """A form that changes something must carry the session's CSRF token."""
    session = page_session(request)
    if session is None or not csrf_matches(session, sent):
        raise ForbiddenError("this form is stale or was not sent from our page; reload and retry")


def require_page(action: str) -> object:
    def guard(viewer: Annotated[Viewer, Depends(page_viewer)]) -> Viewer:
        if not viewer.may(action):
            raise ForbiddenError(f"the {viewer.role} role may not do this")
        return viewer

    return Depends(guard)


PageViewerDep = Annotated[Viewer, Depends(page_viewer)]
PageWriterDep = Annotated[Viewer, require_page("write")]
PageTrainerDep = Annotated[Viewer, require_page("packs")]
