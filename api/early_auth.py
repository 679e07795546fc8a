"""A request that sends a body but no key (bearer or session cookie) is refused before its body
is read.

FastAPI reads (and python-multipart spools) a form body before route dependencies run, so the
key check in `api.deps` comes after the upload. This pure-ASGI check runs first and answers 401
in the one error shape; whether a key that is sent is valid is still decided by `api.deps`.
"""

from __future__ import annotations

from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import error_body
from api.sessions import COOKIE

WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
# The bodies sent before signing in: the key itself, to the API and to the web UI.
SIGN_IN = frozenset({"/session", "/ui/signin"})


class EarlyAuth:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and scope["method"] in WITH_BODY and path not in SIGN_IN:
            headers = Headers(scope=scope)
            scheme = headers.get("authorization", "").split(" ", 1)[0]
            if scheme.lower() != "bearer" and f"{COOKIE}=" not in headers.get("cookie", ""):
                response = JSONResponse(
                    error_body(401, "unauthorized", "sign in: send Authorization: Bearer KEY"),
                    status_code=401,
                    headers={"www-authenticate": "Bearer", "connection": "close"},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
