"""Browser sign-in: the API key is exchanged for an HttpOnly, SameSite=Strict session cookie;
changes made with the cookie need the session's CSRF token."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from kb.embedding.embedder import Embedder
from kb.knowledge_base import KnowledgeBase
from kb.settings import Settings
from kb.users import Users
from tests.api.conftest import add_user
from tests.api.contract import assert_error
from tests.api.corpus import AUREL, DDR

pytestmark = pytest.mark.backends


def browser(settings: Settings, corpus: KnowledgeBase) -> TestClient:
    return TestClient(create_app(settings, kb=corpus), base_url="http://127.0.0.1")


def test_a_browser_signs_in_with_its_key_and_out_again(
    settings: Settings, corpus: KnowledgeBase
) -> None:
    key = add_user(settings, "amina", "evaluator", "restricted")
    with browser(settings, corpus) as http:
        assert_error(http.get("/stats"), 401, "unauthorized")
        signed = http.post("/session", data={"api_key": key})
        assert signed.status_code == 200, signed.text
        body = signed.json()
        assert (body["name"], body["role"], body["clearance"]) == (
            "amina",
            "evaluator",
            "restricted",
        )
        cookie = signed.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and key.lower() not in cookie
        assert http.get("/stats").status_code == 200  # the cookie signs reads in

        # A change without the CSRF token is refused; with it, made as amina.
        patch = {"metadata": {"stage_note": "reviewed"}}
        assert_error(http.patch(f"/documents/{DDR}", json=patch), 403, "forbidden")
        done = http.patch(
            f"/documents/{DDR}", json=patch, headers={"X-CSRF-Token": body["csrf_token"]}
        )
        assert done.status_code == 200, done.text
        assert corpus.audit(DDR, action="edit")[1][0].actor == "api:amina"
        assert_error(http.delete(f"/documents/{AUREL}", headers={"X-CSRF-Token": "forged"}), 403)

        assert http.delete("/session").status_code == 204
        assert_error(http.get("/stats"), 401, "unauthorized")


def test_a_wrong_key_is_refused_and_counted(settings: Settings, corpus: KnowledgeBase) -> None:
    with browser(settings, corpus) as http:
        assert_error(http.post("/session", data={"api_key": "kb_wrong"}), 401, "unauthorized")
        for _ in range(settings.signin_failures_per_minute):
            http.post("/session", data={"api_key": "kb_wrong"})
        limited = http.post("/session", data={"api_key": "kb_wrong"})
        assert limited.status_code == 429 and limited.headers["retry-after"]


def test_a_disabled_user_loses_the_session(settings: Settings, corpus: KnowledgeBase) -> None:
    key = add_user(settings, "omar", "reader", "internal")
    with browser(settings, corpus) as http:
        assert http.post("/session", data={"api_key": key}).status_code == 200
        with Users(settings) as users:
            users.disable("omar")
        assert_error(http.get("/stats"), 401, "unauthorized")


def test_rotating_a_key_ends_the_sessions_opened_with_it(
    settings: Settings, corpus: KnowledgeBase
) -> None:
    key = add_user(settings, "amina", "evaluator", "restricted")
    other = add_user(settings, "omar", "reader", "internal")
    with browser(settings, corpus) as http, browser(settings, corpus) as bystander:
        assert http.post("/session", data={"api_key": key}).status_code == 200
        assert bystander.post("/session", data={"api_key": other}).status_code == 200
        assert http.get("/stats").status_code == 200
        with Users(settings) as users:
            users.rotate_key("amina")
        assert_error(http.get("/stats"), 401, "unauthorized")
        assert bystander.get("/stats").status_code == 200  # only amina's sessions end


def test_a_session_holds_on_every_server_of_the_store_and_across_a_restart(
    settings: Settings, corpus: KnowledgeBase, embedder: Embedder, tmp_path: Path
) -> None:
    """Sessions are in the store: a browser signed in through one server is signed in on any
    other server of the store (another cache folder, as on another machine, on PostgreSQL) and
    after a restart; signing out through one ends it on all."""
    key = add_user(settings, "amina", "evaluator", "restricted")
    with browser(settings, corpus) as one:
        csrf = one.post("/session", data={"api_key": key}).json()["csrf_token"]
        cookies = dict(one.cookies)
    other = (
        settings.model_copy(update={"store": tmp_path / "other"})
        if settings.database_url
        else settings
    )
    with KnowledgeBase(other, embedder=embedder) as base, browser(other, base) as two:
        two.cookies.update(cookies)
        assert two.get("/stats").status_code == 200
        patch = {"metadata": {"stage_note": "seen by the second server"}}
        done = two.patch(f"/documents/{DDR}", json=patch, headers={"X-CSRF-Token": csrf})
        assert done.status_code == 200, done.text
        assert two.delete("/session").status_code == 204
    with browser(settings, corpus) as one:
        one.cookies.update(cookies)
        assert_error(one.get("/stats"), 401, "unauthorized")


FOREIGN = ["https://evil.example", "http://127.0.0.1:8080", "https://127.0.0.1", "null"]


@pytest.mark.parametrize("origin", FOREIGN)
def test_a_sign_in_or_out_from_another_site_is_refused(
    settings: Settings, corpus: KnowledgeBase, origin: str
) -> None:
    key = add_user(settings, "amina", "evaluator", "restricted")
    cross_site = {"Origin": origin}
    with browser(settings, corpus) as http:
        refused = http.post("/session", data={"api_key": key}, headers=cross_site)
        assert "another site" in assert_error(refused, 403, "forbidden")["message"]
        assert "set-cookie" not in refused.headers
        page = http.post("/ui/signin", data={"api_key": key}, headers=cross_site)
        assert page.status_code == 403 and "set-cookie" not in page.headers
        assert_error(http.get("/stats"), 401, "unauthorized")  # no session was opened

        assert http.post("/session", data={"api_key": key}).status_code == 200
        assert_error(http.delete("/session", headers=cross_site), 403, "forbidden")
        assert http.get("/stats").status_code == 200  # still signed in


@pytest.mark.parametrize("origin", [None, "http://127.0.0.1", "HTTP://127.0.0.1:80"])
def test_a_sign_in_and_out_from_this_site_or_a_script_is_accepted(
    settings: Settings, corpus: KnowledgeBase, origin: str | None
) -> None:
    key = add_user(settings, "amina", "evaluator", "restricted")
    same = {} if origin is None else {"Origin": origin}
    with browser(settings, corpus) as http:
        assert http.post("/session", data={"api_key": key}, headers=same).status_code == 200
        assert http.delete("/session", headers=same).status_code == 204
        assert_error(http.get("/stats"), 401, "unauthorized")
        signed = http.post(
            "/ui/signin", data={"api_key": key}, headers=same, follow_redirects=False
        )
        assert signed.status_code == 303 and "kb_session" in signed.headers["set-cookie"]
        assert http.get("/stats").status_code == 200
