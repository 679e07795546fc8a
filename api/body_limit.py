"""A limit on request bodies, enforced before anything reads them whole.

Pure ASGI, outside the routes: a declared Content-Length over the limit is refused at once
without reading a byte; a body without one (chunked) is counted as it streams in and refused as
soon as it passes the limit, so python-multipart never spools an oversized upload. The answer is
413 in the one error shape (a page under /ui/). (FastAPI's own `max_body_size` answers in plain
text whenever the declared length is over, replacing our error body, hence this middleware.)
"""

from __future__ import annotations

from html import escape

from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_body


class _BodyTooLarge(Exception):
    """Raised into the app's read of the body; never leaves this module."""


class BodyLimit:
    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        received = 0
        over = started = False

        async def counted_receive() -> Message:
            nonlocal received, over
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    over = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if over and not started:
                return  # the app's own answer to a body it could not finish: ours replaces it
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except _BodyTooLarge:
            if started:
                raise
        if over and not started:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = (
            f"the request body is over the {self.limit / 1048576:g} MiB limit "
            "(KB_MAX_REQUEST_MB); send fewer or smaller files per request"
        )
        # Connection: close, as the rest of the body is left unread.
        headers = {"connection": "close"}
        response: Response
        if scope.get("path", "").startswith("/ui/"):  # a person at a form, not a program
            response = HTMLResponse(PAGE.format(message=escape(message)), 413, headers)
        else:
            response = JSONResponse(error_body(413, "too_large", message), 413, headers)
        await response(scope, receive, send)


# Outside the app's routes there is no template engine: the web UI's one page made here.
PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Too large · Precedent</title>
<link rel="stylesheet" href="/ui/static/app.css"></head><body><main id="main">
<h1>Too large</h1><p class="error" role="alert">{message}</p>
<p><a href="/ui/upload">Back to the upload page</a></p></main></body></html>"""
