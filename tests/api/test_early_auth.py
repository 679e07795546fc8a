"""A request with a body is signed in before its body is read, over a real server.

Each request below declares a 50 MiB upload, sends its first 16 KiB and never the rest. A
server that read the body before checking the key or cookie would wait for the rest and never
answer (the test then fails on its 30 s guard); one that checks first answers at once.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import secrets
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from api.sessions import COOKIE
from kb.embedding.embedder import Embedder
from kb.knowledge_base import KnowledgeBase
from kb.settings import Settings
from kb.users import Users
from tests.api.conftest import bearer, served

BOUNDARY = "early-auth-boundary"
DECLARED = 50 * 1024 * 1024
SENT = 16 * 1024  # small enough for the server to take in whole, so it closes cleanly
FAILURES = 3


@dataclass(frozen=True)
class Site:
    address: tuple[str, int]
    settings: Settings
    keys: dict[str, str]


@pytest.fixture
def site(tmp_path: Path, embedder: Embedder) -> Iterator[Site]:
    """A served store with amina (evaluator) and omar (evaluator, disabled)."""
    settings = Settings(store=tmp_path / "store", signin_failures_per_minute=FAILURES)
    with Users(settings) as users:
        keys = {name: users.add(name, "evaluator")[1] for name in ("amina", "omar")}
        users.disable("omar")
    with (
        KnowledgeBase(settings, embedder=embedder) as kb,
        served(create_app(settings, kb=kb)) as address,
    ):
        yield Site(address, settings, keys)


def upload_unfinished(site: Site, path: str, headers: dict[str, str]) -> http.client.HTTPResponse:
    """Start a 50 MiB upload to `path`, send 16 KiB of it, and wait for the answer."""
    head = [
        f"POST {path} HTTP/1.1",
        f"Host: {site.address[0]}:{site.address[1]}",
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}",
        f"Content-Length: {DECLARED}",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    part = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.md"\r\n'
        "Content-Type: text/markdown\r\n\r\n"
    ).encode()
    connection = socket.create_connection(site.address)
    connection.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + part + b"x" * SENT)
    # A guard, not a measure: a server waiting for the rest of the body never answers.
    connection.settimeout(30)
    response = http.client.HTTPResponse(connection)
    try:
        response.begin()
    except TimeoutError:
        pytest.fail(f"no answer to an unfinished upload to {path}: the server read the body")
    finally:
        connection.close()  # the response keeps its own file to read the rest from
    return response


def refused(response: http.client.HTTPResponse, status: int, error: str) -> dict[str, object]:
    body: dict[str, object] = json.loads(response.read())
    assert response.status == status, body
    assert body["ok"] is False and body["status"] == status and body["error"] == error, body
    assert response.getheader("connection") == "close"
    return body


def session_cookie(site: Site, token: str) -> dict[str, str]:
    return {"Cookie": f"{COOKIE}={token}"}


def sign_in(site: Site, key: str) -> tuple[str, str]:
    """A real session over HTTP: its cookie token and CSRF token."""
    answer = httpx.post(
        f"http://{site.address[0]}:{site.address[1]}/session", data={"api_key": key}
    )
    assert answer.status_code == 200, answer.text
    return answer.cookies[COOKIE], answer.json()["csrf_token"]


def test_a_wrong_or_disabled_key_is_refused_before_the_body_is_read(site: Site) -> None:
    for key in ("kb_not-a-real-key", site.keys["omar"]):
        response = upload_unfinished(site, "/documents", bearer(key))
        body = refused(response, 401, "unauthorized")
        assert "wrong, or its user is disabled" in str(body["message"])
        assert response.getheader("www-authenticate") == "Bearer"


def test_a_wrong_or_ended_session_is_refused_before_the_body_is_read(site: Site) -> None:
    ended = secrets.token_urlsafe(32)
    with Users(site.settings) as users:
        digest = hashlib.sha256(ended.encode()).hexdigest()
        users.open_session(digest, "amina", "csrf", time.time() - 60)  # expired a minute ago
    for token in ("made-up-token", ended):
        refused(
            upload_unfinished(site, "/documents", session_cookie(site, token)), 401, "unauthorized"
        )
        # The web UI's upload page answers as its pages do: off to sign in.
        page = upload_unfinished(site, "/ui/upload", session_cookie(site, token))
        assert page.status == 303, page.status
        assert page.getheader("location") == "/ui/signin?next=/ui/upload"


def test_a_session_without_its_csrf_token_is_refused_before_the_body_is_read(
    site: Site,
) -> None:
    token, csrf = sign_in(site, site.keys["amina"])
    cookie = session_cookie(site, token)
    body = refused(upload_unfinished(site, "/documents", cookie), 403, "forbidden")
    assert "CSRF" in str(body["message"])
    # With the token it is let through to the route (which then waits for the body): shown
    # here by a small upload that is whole.
    whole = httpx.post(
        f"http://{site.address[0]}:{site.address[1]}/documents",
        headers={**cookie, "X-CSRF-Token": csrf},
        files={"file": ("note.md", b"# Note\n\nA truce held in the hills.\n", "text/markdown")},
    )
    assert whole.status_code == 201, whole.text


def test_wrong_keys_refused_early_count_toward_the_sign_in_limit(site: Site) -> None:
    for n in range(FAILURES):
        refused(upload_unfinished(site, "/documents", bearer(f"kb_guess-{n}")), 401, "unauthorized")
    limited = upload_unfinished(site, "/documents", bearer(site.keys["amina"]))
    refused(limited, 429, "rate_limited")
    assert limited.getheader("retry-after")
