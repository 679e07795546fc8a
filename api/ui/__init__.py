"""The web UI: server-rendered pages (Jinja2) over the same knowledge base as the API.

Pages live under /ui, use the browser session of `POST /ui/signin` (an HttpOnly cookie, never the
API key) and send the session's CSRF token with every form that changes something. JavaScript
only improves pages that work without it.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.ui import (
    document_pages,
    edit_pages,
    pack_item_pages,
    pack_pages,
    pack_suggest_pages,
    search_pages,
    signin_pages,
    trash_pages,
    upload_pages,
    version_pages,
)
from api.ui.auth import SignInNeeded, redirect_to_signin
from api.ui.flash import Flashes
from api.ui.page_memory import PageMemory

STATIC = Path(__file__).parent / "static"


def mount_ui(app: FastAPI) -> None:
    """Add the pages, their static files and the redirect to sign-in."""
    app.mount("/ui/static", StaticFiles(directory=STATIC), name="ui-static")
    app.include_router(signin_pages.router)
    app.include_router(search_pages.router)
    app.include_router(document_pages.router)
    # The evaluators' pages: upload, edit, versions, delete and the trash.
    app.include_router(upload_pages.router)
    app.include_router(edit_pages.router)
    app.include_router(version_pages.router)
    app.include_router(trash_pages.router)
    # The trainers' pages: reading packs.
    app.include_router(pack_pages.router)
    app.include_router(pack_item_pages.router)
    app.include_router(pack_suggest_pages.router)
    app.state.ui_flashes = Flashes()  # messages shown once, after a redirect
    app.state.page_memory = PageMemory()  # the pack each session last added to
    app.add_exception_handler(SignInNeeded, redirect_to_signin)  # type: ignore[arg-type]
