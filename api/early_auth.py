"""A request with a body is signed in before its body is read: a missing, wrong or disabled
key, or a missing, expired or ended session, is refused without reading a byte of it.

FastAPI reads (and python-multipart spools) a form body before route dependencies run, so the
key check in `api.deps` would come after the upload. This pure-ASGI check runs first, with
the same code (`api.deps.authenticate`, one hash lookup in the store), answers 401, 403 or
429 in the one error shape (for a page under /ui/, the route's own answer: off to sign in),
and leaves the viewer in the request's state for the route's guard to reuse.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from api.deps import EARLY_VIEWER, authenticate, bearer
from api.errors import CHALLENGE, CODE_BY_STATUS, PAGES, error_body, status_of
from api.ui.auth import SignInNeeded, page_viewer, redirect_to_signin
from kb.errors import ForbiddenError, KBError, UnauthorizedError

WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
# The bodies sent before signing in: the key itself, to the API and to the web UI.
SIGN_IN = frozenset({"/session", "/ui/signin"})


class EarlyAuth:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in WITH_BODY
            or scope.get("path", "") in SIGN_IN
        ):
            await self.app(scope, receive, send)
            return
        response = await self._refusal(Request(scope))
        if response is None:
            await self.app(scope, receive, send)
            return
        # The body is left unread: the connection cannot carry another request.
        response.headers["connection"] = "close"
        await response(scope, receive, send)

    async def _refusal(self, request: Request) -> Response | None:
        """The answer to a request that may not go on; None when it may (signed in)."""
        try:
            if request.url.path.startswith(PAGES):
                # The pages' own check, done again by the page's guard (a second lookup, as
                # cheap as the first).
                await run_in_threadpool(page_viewer, request)
                return None
            credentials = await bearer(request)
            key = None if credentials is None else credentials.credentials
            viewer = await run_in_threadpool(authenticate, request, key)
        except SignInNeeded as exc:
            return redirect_to_signin(request, exc)
        except HTTPException as exc:  # too many wrong keys from this address
            code = CODE_BY_STATUS.get(exc.status_code, "error")
            body = error_body(exc.status_code, code, str(exc.detail))
            return JSONResponse(body, exc.status_code, exc.headers)
        except (UnauthorizedError, ForbiddenError) as exc:
            status = status_of(exc)
            headers = CHALLENGE if status == 401 else None
            return JSONResponse(error_body(status, exc.code, exc.message), status, headers)
        except KBError:
            # The store could not say (busy, unreachable): the route's own check answers, in
            # the way every route answers that.
            return None
        setattr(request.state, EARLY_VIEWER, viewer)
        return None
