"""Route dependencies as `Annotated` aliases: the knowledge base, filters, and who asks.

Every route but /health signs its caller in with `Authorization: Bearer KEY` and states the
action it needs (`ReaderDep`, `WriterDep`, `TrainerDep`, `AdminDep`): one guard per route.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException

from api.sessions import COOKIE, CSRF_HEADER, Sessions, csrf_matches
from api.signin_limit import SignInLimiter
from kb.access import ACTIONS, Viewer
from kb.errors import ForbiddenError, NotFoundError, UnauthorizedError
from kb.knowledge_base import KnowledgeBase
from kb.metadata.filters import parse_filters, split_pairs
from kb.metadata.schema import MetadataSchema
from kb.models import MAX_ID, Filters
from kb.search.searcher import MAX_OFFSET
from kb.users import Users


def get_kb(request: Request) -> KnowledgeBase:
    kb: KnowledgeBase = request.app.state.kb
    return kb


def get_schema(request: Request) -> MetadataSchema:
    """The metadata schema, loaded once by `create_app` (a bad schema file stops the start)."""
    schema: MetadataSchema = request.app.state.metadata_schema
    return schema


def get_filters(
    filter: Annotated[
        list[str],
        Query(
            description="`key=value`, repeatable: doc_type, date_from, date_to, classification, "
            "a relation label, KEY_min / KEY_max (a number or a date), or a metadata key (a "
            "schema field or a key of a document you may see); a repeated key means any of "
            "its values. An unknown key or a bad value is refused (422)."
        ),
    ] = [],  # noqa: B006 - FastAPI copies query defaults
    doc_type: Annotated[list[str], Query(description="Document type(s).")] = [],  # noqa: B006
    date_from: Annotated[str | None, Query(description="Earliest date, YYYY[-MM[-DD]].")] = None,
    date_to: Annotated[str | None, Query(description="Latest date, YYYY[-MM[-DD]].")] = None,
) -> Filters:
    pairs: dict[str, list[str]] = split_pairs(f for f in filter if f.strip())
    # An empty field (a form left blank) is no filter.
    doc_type = [t for t in doc_type if t.strip()]
    if doc_type:
        pairs.setdefault("doc_type", []).extend(doc_type)
    if date_from:
        pairs["date_from"] = [date_from]
    if date_to:
        pairs["date_to"] = [date_to]
    return parse_filters({k: v for k, v in pairs.items()})


KBDep = Annotated[KnowledgeBase, Depends(get_kb)]
FiltersDep = Annotated[Filters, Depends(get_filters)]
# Every integer a request carries is bounded here, so a number past what the store holds is
# a 422 naming it, never an overflow deep inside.
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip.")]


# auto_error=False: a missing key is answered by get_viewer, in the one error shape.
bearer = HTTPBearer(
    auto_error=False,
    description="An API key (`kb users add`, or STORE/admin.key for the first admin).",
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
WHAT = {
    "read": "search or read documents",
    "write": "add, edit, delete or restore documents",
    "packs": "make reading packs",
    "admin": "purge documents, read the audit log or manage users",
}


def get_users(request: Request) -> Users:
    users: Users = request.app.state.users
    return users


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def get_viewer(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Viewer:
    """The user whose key the request carries; 401 without a valid one, 429 after too many
    wrong ones from the same address. A request with a body was signed in before its body
    was read (`api.early_auth`): that answer is reused."""
    early: Viewer | None = getattr(request.state, EARLY_VIEWER, None)
    if early is not None:
        return early
    return authenticate(request, None if credentials is None else credentials.credentials)


# Where `api.early_auth` leaves the viewer it signed in, in the request's state.
EARLY_VIEWER = "early_viewer"


def authenticate(request: Request, key: str | None) -> Viewer:
    """The user a request signs in as: by its bearer `key`, else by its session cookie (a
    change made with the cookie must carry the CSRF token). 401 without either, 403 without
    the token, 429 after too many wrong keys from the address; a wrong key is counted."""
    limiter, address = signin_gate(request)
    if key is None:
        return _session_viewer(request)
    viewer = get_users(request).authenticate(key)
    if viewer is None:
        limiter.failed(address)
        raise UnauthorizedError("the API key is wrong, or its user is disabled")
    return viewer


def signin_gate(request: Request) -> tuple[SignInLimiter, str]:
    """The sign-in limiter and the caller's address; 429 while the address is over the limit."""
    limiter: SignInLimiter = request.app.state.signin_limiter
    address = client_address(request)
    wait = limiter.retry_after(address)
    if wait is not None:
        raise HTTPException(
            429,
            f"too many wrong API keys from this address; try again in {wait} s",
            headers={"Retry-After": str(wait)},
        )
    return limiter, address


def check_same_origin(request: Request) -> None:
    """Refuse (403) a sign-in or sign-out sent by a page of another site: one whose `Origin`
    is not this server's own. Without `Origin` (a script, curl) the request passes: browsers
    send it with every cross-site POST, so its absence is no browser acting for another site."""
    origin = request.headers.get("origin")
    if origin is None:
        return
    own = f"{request.url.scheme}://{request.headers.get('host', '')}"
    sent = _origin_of(origin)
    if sent is None or sent != _origin_of(own):
        raise ForbiddenError(
            f"refused: this request was sent from another site (Origin {origin!r} is not {own})"
        )


DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin_of(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) with the default port filled in; None for `null` or junk."""
    try:
        parts = urlsplit(url)
        scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
        port = parts.port or DEFAULT_PORTS.get(scheme)
    except ValueError:
        return None
    if not host or port is None or parts.path not in ("", "/"):
        return None
    return scheme, host, port


def _session_viewer(request: Request) -> Viewer:
    """The user of the browser session the request's cookie names; a request that changes
    something must also carry the session's CSRF token."""
    token = request.cookies.get(COOKIE)
    session = get_sessions(request).find(token) if token else None
    if session is None:
        raise UnauthorizedError("an API key is needed: send `Authorization: Bearer KEY`")
    if request.method not in SAFE_METHODS and not csrf_matches(
        session, request.headers.get(CSRF_HEADER)
    ):
        raise ForbiddenError("this change needs the session's CSRF token in X-CSRF-Token")
    try:
        return get_users(request).viewer(session.name)
    except (UnauthorizedError, NotFoundError) as exc:  # disabled or removed since sign-in
        raise UnauthorizedError("the session's user is disabled; sign in again") from exc


def get_sessions(request: Request) -> Sessions:
    sessions: Sessions = request.app.state.sessions
    return sessions


ViewerDep = Annotated[Viewer, Depends(get_viewer)]


class Require:
    """The guard of a route: the signed-in viewer, if their role may do `action`, else 403."""

    def __init__(self, action: str) -> None:
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        self.action = action

    def __call__(self, viewer: ViewerDep) -> Viewer:
        if not viewer.may(self.action):
            raise ForbiddenError(f"the {viewer.role} role may not {WHAT[self.action]}")
        return viewer


def require(action: str) -> Require:
    return Require(action)


ReaderDep = Annotated[Viewer, Depends(require("read"))]
WriterDep = Annotated[Viewer, Depends(require("write"))]
TrainerDep = Annotated[Viewer, Depends(require("packs"))]
AdminDep = Annotated[Viewer, Depends(require("admin"))]


def get_actor(viewer: ViewerDep) -> str:
    """Who makes a change, as the audit log records it: `api:` and the user's name."""
    return f"api:{viewer.name}"


ActorDep = Annotated[str, Depends(get_actor)]
SchemaDep = Annotated[MetadataSchema, Depends(get_schema)]
