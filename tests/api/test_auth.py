"""Signing in over real HTTP: no key, a wrong or disabled key, each role on every route.

The route table is read from the app itself, so a route added without a guard (or with one
the table does not expect) fails here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from api.app import create_app
from api.deps import Require
from kb.access import ACTIONS, ROLES
from kb.embedding.embedder import Embedder
from kb.knowledge_base import KnowledgeBase
from kb.settings import Settings
from kb.users import Users
from tests.api.conftest import bearer
from tests.api.contract import assert_error

# Every route and the action its guard demands. A new route must be added here.
GUARDS: dict[tuple[str, str], str] = {
    ("GET", "/search"): "read",
    ("POST", "/search"): "read",
    ("GET", "/documents"): "read",
    ("GET", "/documents/{document_id}"): "read",
    ("GET", "/documents/{document_id}/similar"): "read",
    ("GET", "/documents/{document_id}/versions"): "read",
    ("GET", "/documents/{document_id}/versions/{version}"): "read",
    ("GET", "/documents/{document_id}/relations"): "read",
    ("GET", "/stats"): "read",
    ("GET", "/facets"): "read",
    ("GET", "/documents/{document_id}/original"): "read",
    ("GET", "/documents/{document_id}/versions/{version}/original"): "read",
    ("POST", "/packs/suggest"): "read",
    ("GET", "/packs/{pack_id}/export"): "read",
    ("POST", "/documents"): "write",
    ("GET", "/jobs/{job_id}"): "write",
    ("PATCH", "/documents/{document_id}"): "write",
    ("DELETE", "/documents/{document_id}"): "write",
    ("POST", "/documents/{document_id}/restore"): "write",
    ("GET", "/trash"): "write",
    ("POST", "/documents/{document_id}/relations"): "write",
    ("DELETE", "/documents/{document_id}/relations/{relation}/{target_id}"): "write",
    ("DELETE", "/trash/{document_id}"): "admin",
    ("POST", "/trash/purge"): "admin",
    ("GET", "/audit"): "admin",
    ("GET", "/packs"): "read",
    ("GET", "/packs/{pack_id}"): "read",
    ("POST", "/packs"): "packs",
    ("PATCH", "/packs/{pack_id}"): "packs",
    ("DELETE", "/packs/{pack_id}"): "packs",
    ("POST", "/packs/{pack_id}/duplicate"): "packs",
    ("POST", "/packs/{pack_id}/items"): "packs",
    ("PATCH", "/packs/{pack_id}/items/{item_id}"): "packs",
    ("DELETE", "/packs/{pack_id}/items/{item_id}"): "packs",
    ("PUT", "/packs/{pack_id}/order"): "packs",
}
# liveness; the redirect to /docs; signing a browser in (the key is its body) and out
OPEN = {("GET", "/health"), ("GET", "/"), ("POST", "/session"), ("DELETE", "/session")}
# Path parameters name nothing that exists: a request that passes its guard then answers 404
# (or 200 for a listing, 422 for a missing body) and changes nothing.
PARAMS = {
    "document_id": "no-such-document",
    "version": "1",
    "relation": "evaluates",
    "target_id": "no-such-target",
    "pack_id": "999999",
    "item_id": "999999",
    "job_id": "no-such-job",
}


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str

    @property
    def url(self) -> str:
        return re.sub(r"\{(\w+)\}", lambda m: PARAMS[m.group(1)], self.path)

    def call(self, http: TestClient, headers: dict[str, str] | None = None) -> Any:
        return http.request(self.method, self.url, headers=headers)


def routes(app: Any, pages: bool = False) -> list[APIRoute]:
    """Every API route of the app, those of included routers too (FastAPI keeps each included
    router whole, as one entry holding `original_router`). The web UI's pages (under /ui,
    guarded by the browser session: tests/ui/test_pages.py) only with `pages`."""
    found: list[APIRoute] = []
    pending = list(app.routes)
    while pending:
        route = pending.pop(0)
        if isinstance(route, APIRoute) and route.path.startswith(UI) == pages:
            found.append(route)
        pending.extend(getattr(getattr(route, "original_router", None), "routes", []))
    return found


UI = "/ui"


def endpoints(app: Any) -> list[Endpoint]:
    return [
        Endpoint(method, route.path)
        for route in routes(app)
        for method in sorted(route.methods)
        if (method, route.path) not in OPEN
    ]


def guards_of(route: APIRoute) -> list[str]:
    found: list[str] = []
    pending = list(route.dependant.dependencies)
    while pending:
        dependency = pending.pop()
        if isinstance(dependency.call, Require):
            found.append(dependency.call.action)
        pending.extend(dependency.dependencies)
    return found


@dataclass
class Site:
    http: TestClient
    keys: dict[str, str]  # role (or "disabled") -> key


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[Site]:
    """An app over an empty store with one user per role and one disabled user."""
    # Wrong keys are sent on purpose here, many times: the limit is tested on its own below.
    settings = Settings(
        store=tmp_path_factory.mktemp("auth") / "store", signin_failures_per_minute=10_000
    )
    with KnowledgeBase(settings, embedder=embedder) as kb, Users(settings) as users:
        keys = {role: users.add(role, role, "confidential")[1] for role in ROLES}
        keys["disabled"] = users.add("gone", "admin", "confidential")[1]
        users.disable("gone")
        with TestClient(create_app(settings, kb=kb)) as http:
            yield Site(http, keys)


APP = create_app(Settings(store=Path("unused")))  # only its routes are read; never started


def test_every_route_has_exactly_the_guard_the_table_says() -> None:
    seen = set()
    for route in routes(APP):
        for method in route.methods:
            key = (method, route.path)
            seen.add(key)
            if key in OPEN:
                assert guards_of(route) == [], f"{key} is open by design"
                continue
            assert key in GUARDS, f"{method} {route.path} is not in the guard table"
            assert guards_of(route) == [GUARDS[key]], f"{method} {route.path}"
    assert set(GUARDS) | OPEN == seen, "the table names routes the app no longer has"
    # The walk above missed nothing the app serves: the OpenAPI schema lists the same routes.
    documented = {
        (method.upper(), path) for path, item in APP.openapi()["paths"].items() for method in item
    }
    assert documented == seen - {("GET", "/")}


@pytest.mark.parametrize("endpoint", endpoints(APP), ids=lambda e: f"{e.method} {e.path}")
def test_no_route_but_health_answers_without_a_valid_key(site: Site, endpoint: Endpoint) -> None:
    for headers in (
        None,
        bearer("kb_wrong"),
        bearer(site.keys["disabled"]),
        {"Authorization": f"Basic {site.keys['admin']}"},
    ):
        response = endpoint.call(site.http, headers)
        assert_error(response, 401, "unauthorized")
        assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("endpoint", endpoints(APP), ids=lambda e: f"{e.method} {e.path}")
@pytest.mark.parametrize("role", ROLES)
def test_each_role_passes_exactly_the_guards_of_its_actions(
    site: Site, endpoint: Endpoint, role: str
) -> None:
    response = endpoint.call(site.http, bearer(site.keys[role]))
    if role in ACTIONS[GUARDS[(endpoint.method, endpoint.path)]]:
        assert response.status_code not in (401, 403), response.text
        assert response.status_code < 500, response.text
    else:
        body = assert_error(response, 403, "forbidden")
        assert f"the {role} role may not" in body["message"]


def test_health_is_open(site: Site) -> None:
    assert site.http.get("/health").json() == {"status": "ok"}


def test_the_docs_stay_open_and_declare_the_bearer_scheme(site: Site) -> None:
    assert site.http.get("/docs").status_code == 200
    schema = site.http.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert schema["paths"]["/search"]["get"]["security"] == [{"HTTPBearer": []}]
    assert "security" not in schema["paths"]["/health"]["get"]
    assert {"401", "403", "429"} <= set(schema["paths"]["/search"]["get"]["responses"])


def test_every_answer_carries_the_security_headers(site: Site) -> None:
    for response in (
        site.http.get("/health"),
        site.http.get("/stats", headers=bearer(site.keys["reader"])),
        site.http.get("/stats"),
        site.http.get("/docs"),
    ):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "same-origin"
    docs = site.http.get("/docs")
    assert docs.headers["content-type"].startswith("text/html")
    policy = docs.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "https://cdn.jsdelivr.net" in policy
    assert "Content-Security-Policy" not in site.http.get("/health").headers


def test_a_rotated_key_stops_working_at_once_over_http(tmp_path: Path, embedder: Embedder) -> None:
    settings = Settings(store=tmp_path / "store")
    with (
        KnowledgeBase(settings, embedder=embedder) as kb,
        Users(settings) as users,
        TestClient(create_app(settings, kb=kb)) as http,
    ):
        _, old = users.add("amina", "reader")
        assert http.get("/stats", headers=bearer(old)).status_code == 200
        new = users.rotate_key("amina")
        assert_error(http.get("/stats", headers=bearer(old)), 401, "unauthorized")
        assert http.get("/stats", headers=bearer(new)).status_code == 200
        users.disable("amina")
        assert_error(http.get("/stats", headers=bearer(new)), 401, "unauthorized")


def test_too_many_wrong_keys_from_one_address_get_429(tmp_path: Path, embedder: Embedder) -> None:
    settings = Settings(store=tmp_path / "store", signin_failures_per_minute=3)
    with (
        KnowledgeBase(settings, embedder=embedder) as kb,
        Users(settings) as users,
        TestClient(create_app(settings, kb=kb)) as http,
    ):
        _, key = users.add("amina", "reader")
        # Asking without a key is not a failed sign-in.
        for _ in range(5):
            assert_error(http.get("/stats"), 401, "unauthorized")
        for n in range(3):
            assert_error(http.get("/stats", headers=bearer(f"kb_guess-{n}")), 401)

        refused = http.get("/stats", headers=bearer("kb_guess-4"))
        body = assert_error(refused, 429, "rate_limited")
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert "too many wrong API keys" in body["message"]
        # While it lasts, a good key from that address is refused too: no oracle for guessers.
        assert_error(http.get("/stats", headers=bearer(key)), 429, "rate_limited")
        assert http.get("/health").status_code == 200


NOTE = b"# Note\n\nA short note on a ceasefire that held for three winters in the hills.\n"


@pytest.mark.parametrize(
    ("form", "status", "says"),
    [
        ({"classification": "secret"}, 422, "classification must be one of"),
        ({"classification": "restricted"}, 403, "above your clearance 'internal'"),
        ({"groups": "legal"}, 403, "a group you belong to"),
        ({"groups": '["legal", "horn"'}, 422, "not a valid JSON list"),
        ({"groups": "[1]"}, 422, "JSON list of group names"),
        ({"classification": "public", "groups": "horn"}, 201, None),
        ({"classification": "internal", "groups": '["horn", "legal"]'}, 201, None),
    ],
)
def test_an_uploader_may_only_mark_a_document_they_could_see(
    tmp_path: Path, embedder: Embedder, form: dict[str, str], status: int, says: str | None
) -> None:
    settings = Settings(store=tmp_path / "store")
    with (
        KnowledgeBase(settings, embedder=embedder) as kb,
        Users(settings) as users,
        TestClient(create_app(settings, kb=kb)) as http,
    ):
        _, key = users.add("clerk", "evaluator", "internal", ["horn"])
        response = http.post(
            "/documents",
            files={"file": ("note.md", NOTE, "text/markdown")},
            data=form,
            headers=bearer(key),
        )
        if says is None:
            assert response.status_code == status, response.text
        else:
            assert says in assert_error(response, status)["message"]
            assert kb.stats().documents == 0


def test_a_body_without_a_key_is_refused_before_it_is_read(bare_client: TestClient) -> None:
    def body() -> Iterator[bytes]:
        yield b"--x\r\n"
        raise AssertionError("the body was read before the key was checked")

    bare = TestClient(bare_client.app)  # no key
    response = bare.post(
        "/documents",
        content=body(),
        headers={"content-type": "multipart/form-data; boundary=x"},
    )
    assert_error(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"
