"""Every bad input refused at a bounded cost: each integer a request carries (an offset, a
limit, a pack, item, passage or version number), in a path, a query, a form or a JSON body, on
every route of the API and the web UI, is refused with 422 past what the store can hold, never
a 500; `{"groups": null}` keeps a document's groups; a query or theme over KB_MAX_QUERY_CHARS
is refused at once, naming the limit."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, get_args

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from httpx import Response
from pydantic import BaseModel

from kb.settings import Settings
from kb.users import Users
from tests.api.conftest import add_user, bearer
from tests.api.contract import assert_error
from tests.api.corpus import AUREL, DDR
from tests.api.test_auth import routes

# Past SQLite's and PostgreSQL's 64-bit integers, either way; 23 digits.
HUGE = (2**63, -(2**63) - 1, 12345678901234567890123)


@dataclass
class Site:
    api: TestClient  # an admin's API key
    ui: TestClient  # an admin's browser session
    csrf: str
    pack_id: int
    item_id: int

    def valid(self) -> dict[str, Any]:
        """A value for each path parameter that names something there."""
        return {
            "document_id": AUREL,
            "relation": "evaluates",
            "target_id": DDR,
            "job_id": "no-such-job",
            "pack_id": self.pack_id,
            "item_id": self.item_id,
            "version": 1,
            "number": 1,
        }


@pytest.fixture
def site(client: TestClient, settings: Settings) -> Iterator[Site]:
    pack = client.post("/packs", json={"title": "Bounds"}).json()
    pack = client.post(f"/packs/{pack['pack_id']}/items", json={"document_id": AUREL}).json()
    key = add_user(settings, "ui-admin", "admin")
    with TestClient(client.app, follow_redirects=False) as ui:
        signed = ui.post("/ui/signin", data={"api_key": key, "next": "/ui/"})
        assert signed.status_code == 303, signed.text
        page = ui.get("/ui/").text
        csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        yield Site(client, ui, csrf, pack["pack_id"], pack["items"][0]["item_id"])


def inputs(route: APIRoute) -> Iterator[tuple[str, str, Any]]:
    """(where, name, annotation) of each parameter of a route and of its dependencies."""
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        for where in ("path", "query", "body"):
            for field in getattr(dependant, f"{where}_params"):
                yield where, field.name, field.field_info.annotation
        pending.extend(dependant.dependencies)


def is_int(annotation: Any) -> bool:
    return annotation is int or int in get_args(annotation)


def body_model(route: APIRoute) -> type[BaseModel] | None:
    for where, _, annotation in inputs(route):
        for kind in (annotation, *get_args(annotation)):
            if where == "body" and isinstance(kind, type) and issubclass(kind, BaseModel):
                return kind
    return None


def json_bodies(site: Site) -> dict[tuple[str, str], dict[str, Any]]:
    """A valid JSON body for each route that needs one, so only the number tried is wrong."""
    return {
        ("POST", "/search"): {"query": "peace"},
        ("POST", "/packs/suggest"): {"theme": "peace"},
        ("POST", "/packs"): {"title": "Another"},
        ("PATCH", "/packs/{pack_id}"): {"title": "Renamed"},
        ("POST", "/packs/{pack_id}/duplicate"): {},
        ("POST", "/packs/{pack_id}/items"): {"document_id": AUREL},
        ("PATCH", "/packs/{pack_id}/items/{item_id}"): {"note": "A note."},
        ("PUT", "/packs/{pack_id}/order"): {"item_ids": [site.item_id]},
        ("PATCH", "/documents/{document_id}"): {"title": "Renamed"},
        ("POST", "/documents/{document_id}/relations"): {"relation": "evaluates", "target_id": DDR},
    }


def ask(site: Site, route: APIRoute, method: str, name: str, value: Any) -> Response:
    """The route asked with every input valid but `name`, which is `value`."""
    page = route.path.startswith("/ui")
    http = site.ui if page else site.api
    where = {n: w for w, n, _ in inputs(route)}[name]
    params = {**site.valid(), name: value} if where == "path" else site.valid()
    url = route.path.format(**params)
    query = {name: value} if where == "query" else None
    if page:
        form = {"csrf": site.csrf, "document_id": AUREL}
        if where == "body":
            form[name] = value
        data = form if method == "POST" else None
        return http.request(method, url, params=query, data=data)
    body = json_bodies(site).get((method, route.path))
    return http.request(method, url, params=query, json=body)


def test_no_integer_in_a_path_query_or_form_makes_a_500(site: Site) -> None:
    app = site.api.app
    tried, failures = 0, []
    for route in routes(app) + routes(app, pages=True):
        for method in sorted(route.methods):
            for where, name, annotation in inputs(route):
                if not is_int(annotation):
                    continue
                for value in HUGE:
                    tried += 1
                    response = ask(site, route, method, name, value)
                    if response.status_code != 422:
                        failures.append((method, route.path, where, name, value, response.text))
    assert tried > 100  # every page, offset, limit, pack, item and version number
    assert not failures, "\n".join(map(str, failures))


def test_no_integer_in_a_json_body_makes_a_500(site: Site) -> None:
    app = site.api.app
    bodies = json_bodies(site)
    tried = set()
    for route in routes(app):
        model = body_model(route)
        if model is None:
            continue
        for method in route.methods:
            assert (method, route.path) in bodies, f"{method} {route.path}: no valid body here"
            for field, info in model.model_fields.items():
                annotation = info.annotation
                if not (is_int(annotation) or any(is_int(a) for a in get_args(annotation))):
                    continue
                for value in HUGE:
                    many = annotation is not int and list in (annotation, *get_args(annotation))
                    body = {**bodies[(method, route.path)], field: [value] if many else value}
                    url = route.path.format(**site.valid())
                    response = site.api.request(method, url, json=body)
                    message = assert_error(response, 422, "invalid_request")["message"]
                    assert field in message, (route.path, field, message)
                tried.add((route.path, field))
    assert {
        ("/search", "limit"),
        ("/search", "offset"),
        ("/packs/suggest", "limit"),
        ("/packs/{pack_id}/items", "chunk_id"),
        ("/packs/{pack_id}/order", "item_ids"),
    } <= tried


@pytest.mark.parametrize("field", ["chunk_id", "pack_id"])
def test_a_huge_number_in_a_page_form_is_refused(site: Site, field: str) -> None:
    base = {"csrf": site.csrf, "pack_id": site.pack_id, "document_id": AUREL, "chunk_id": ""}
    for value in HUGE[::2]:
        one = site.ui.post("/ui/add-to-pack", data={**base, field: str(value)})
        assert one.status_code == 422, one.text
    many = site.ui.post(
        f"/ui/packs/{site.pack_id}/items",
        data={"csrf": site.csrf, "document_id": [AUREL], "chunk_id": [str(2**63)], "note": [""]},
    )
    assert many.status_code == 422, many.text


def test_groups_null_keeps_the_groups(client: TestClient, settings: Settings) -> None:
    with Users(settings) as users:
        key = users.add("mia", "evaluator", "confidential", ["mediators"])[1]
    mia = TestClient(client.app, headers=bearer(key))
    marked = mia.patch(f"/documents/{AUREL}", json={"groups": ["mediators"]})
    assert marked.status_code == 200, marked.text
    assert marked.json()["groups"] == ["mediators"]

    for body in ({"groups": None}, {"groups": None, "title": "Renamed"}):
        edited = mia.patch(f"/documents/{AUREL}", json=body)
        assert edited.status_code == 200, edited.text
        assert edited.json()["groups"] == ["mediators"]  # never opened to everyone
    assert edited.json()["title"] == "Renamed"
    opened = mia.patch(f"/documents/{AUREL}", json={"groups": []})
    assert opened.json()["groups"] == []


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("GET", "/search", None),
        ("POST", "/search", "query"),
        ("POST", "/packs/suggest", "theme"),
    ],
)
def test_a_query_over_the_limit_is_refused_naming_it(
    reader: TestClient, method: str, url: str, body: str | None
) -> None:
    limit = Settings().max_query_chars
    # 912 KB took 45 s before; a URL (GET) carries at most 64 KiB.
    longest = 60_000 if body is None else 912_000
    for text in ("ceasefire " * (limit // 10) + "x", "x" * longest):
        if body is None:
            response = reader.get(url, params={"q": text})
        else:
            response = reader.request(method, url, json={body: text})
        message = assert_error(response, 422, "invalid_request")["message"]
        assert f"the limit is {limit:,} (KB_MAX_QUERY_CHARS)" in message
        assert f"{len(text):,} characters" in message
    at_limit = "peace " * (limit // 6)
    assert len(at_limit) <= limit
    if body is None:
        assert reader.get(url, params={"q": at_limit}).status_code == 200
    else:
        assert reader.request(method, url, json={body: at_limit}).status_code == 200
