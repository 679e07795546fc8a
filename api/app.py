"""The FastAPI application, built from explicit settings."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from types import MappingProxyType
from typing import Any

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from api.body_limit import BodyLimit
from api.early_auth import EarlyAuth
from api.errors import install_error_handlers
from api.routes import (
    audit,
    curation,
    documents,
    facets,
    jobs,
    originals,
    pack_tools,
    packs,
    search,
    session,
    system,
    uploads,
)
from api.schemas.core import ErrorResponse
from api.security_headers import SecurityHeaders
from api.sessions import Sessions
from api.signin_limit import SignInLimiter
from api.ui import mount_ui
from api.ui.templating import error_page
from ingest.jobs import Worker
from kb.knowledge_base import KnowledgeBase
from kb.metadata.schema import load_schema
from kb.settings import Settings
from kb.users import Users

# How `kb serve` runs the app under uvicorn. uvicorn's own proxy handling is off: it believes
# X-Forwarded-For from any loopback peer, so one local client could pose as any number of
# addresses to the sign-in limit. The app applies KB_TRUSTED_PROXIES itself instead.
UVICORN_OPTIONS: Mapping[str, Any] = MappingProxyType({"proxy_headers": False})

# Every operation may answer these, in the one error shape (400: a body that cannot be parsed).
ERRORS = {
    code: {"model": ErrorResponse}
    for code in (400, 401, 403, 404, 409, 413, 415, 422, 429, 500, 503)
}


def create_app(settings: Settings, kb: KnowledgeBase | None = None) -> FastAPI:
    """The HTTP app over one knowledge base (opened here unless one is given)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = kb is None
        app.state.kb = kb if kb is not None else KnowledgeBase(settings)
        if owned:
            # Load the model and the vector index now, not on the first user's query.
            app.state.kb.embedder.encode_queries(["warm up"])
            app.state.kb.index()
            # The trash is emptied of what is past its retention at each start.
            app.state.kb.purge_expired("system:retention")
            if app.state.kb.searcher.keywords is not None:
                app.state.kb.searcher.keywords.refresh()  # a first build goes on in background
        app.state.users = Users(settings)
        app.state.sessions = Sessions(settings.session_hours, app.state.users)
        stop = threading.Event()
        workers = [
            threading.Thread(
                target=Worker(app.state.kb, app.state.metadata_schema).run,
                args=(stop,),
                name=f"ingest-worker-{n}",
                daemon=True,
            )
            for n in range(settings.serve_workers)
        ]
        for worker in workers:
            worker.start()
        try:
            yield
        finally:
            stop.set()
            for worker in workers:
                worker.join(settings.job_lease_seconds)  # a file being ingested is finished
            app.state.users.close()
            if owned:
                app.state.kb.close()

    app = FastAPI(
        title="Precedent",
        version="0.1.0",
        summary="Precedents for a new crisis from past agreements, evaluations and lessons.",
        lifespan=lifespan,
        responses=ERRORS,  # type: ignore[arg-type]
    )
    app.add_middleware(EarlyAuth)
    # Outside EarlyAuth, whose sign-in limit counts by the client address this settles.
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))
    app.add_middleware(BodyLimit, limit=settings.max_request_bytes)
    app.add_middleware(SecurityHeaders)  # added last: outermost, so on every answer
    app.state.signin_limiter = SignInLimiter(settings.signin_failures_per_minute)
    # Loaded here so that a bad schema file stops the start, not the first upload.
    app.state.metadata_schema = load_schema(settings.metadata_schema)
    install_error_handlers(app, page=error_page)
    app.include_router(search.router)
    app.include_router(facets.router)
    app.include_router(uploads.router)
    app.include_router(jobs.router)
    app.include_router(documents.router)
    app.include_router(originals.router)
    app.include_router(curation.router)
    app.include_router(pack_tools.router)
    app.include_router(audit.router)
    app.include_router(packs.router)
    app.include_router(system.router)
    app.include_router(session.router)
    mount_ui(app)

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/ui/")

    return app
