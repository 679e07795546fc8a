"""Security headers on every answer; a Content-Security-Policy on HTML ones.

Pure ASGI, so streamed answers pass through untouched. The headers cost nothing on JSON and
guard the HTML pages (the web UI, the API docs) against sniffing, framing and leaking URLs.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # Not no-referrer: under it a browser sends `Origin: null` with our own forms' POSTs, and
    # sign-in refuses a null origin (api.deps.check_same_origin). Other sites still get nothing.
    "Referrer-Policy": "same-origin",
}
# Our own pages load only from this origin and may not be framed.
HTML_POLICY = (
    "default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# FastAPI's /docs and /redoc pages load Swagger UI and ReDoc from jsDelivr and start them with
# an inline script; ReDoc runs a blob: worker.
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src 'self' https://fonts.gstatic.com; "
    "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
    "worker-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
DOCS_PATHS = ("/docs", "/redoc")


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
                if headers.get("content-type", "").startswith("text/html"):
                    docs = path.startswith(DOCS_PATHS)
                    headers.setdefault(
                        "Content-Security-Policy", DOCS_POLICY if docs else HTML_POLICY
                    )
            await send(message)

        await self.app(scope, receive, send_with_headers)
