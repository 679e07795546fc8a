"""The web UI's pages over HTTP (no browser): sign-in, guards, CSRF, escaping, errors, leaks."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.sessions import COOKIE
from tests.api.test_auth import routes
from tests.ui.conftest import Site

pytestmark = pytest.mark.backends

HIDDEN = "tamsin-plateau-mediation-evaluation-2004"  # restricted; nadia is cleared to internal


@pytest.fixture
def http(site: Site) -> Iterator[TestClient]:
    with TestClient(create_app(site.settings, kb=site.kb), follow_redirects=False) as client:
        yield client


def sign_in(http: TestClient, site: Site, name: str) -> str:
    """Signs `http` in as `name`; returns the page's CSRF token."""
    answer = http.post("/ui/signin", data={"api_key": site.keys[name], "next": "/ui/"})
    assert answer.status_code == 303 and COOKIE in answer.cookies
    page = http.get("/ui/").text
    return page.split('name="csrf" value="', 1)[1].split('"', 1)[0]


def test_pages_need_a_session_and_keep_where_the_user_was_going(http: TestClient) -> None:
    answer = http.get("/ui/documents/x?chunk=3")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/ui/signin?next=/ui/documents/x%3Fchunk%3D3"
    assert http.get("/").headers["location"] == "/ui/"
    signin = http.get("/ui/signin?next=/ui/documents/x")
    assert signin.status_code == 200
    assert 'value="/ui/documents/x"' in signin.text
    assert "default-src 'self'" in signin.headers["content-security-policy"]


def test_a_wrong_key_is_refused_on_the_page(http: TestClient) -> None:
    answer = http.post("/ui/signin", data={"api_key": "kb_nope", "next": "/ui/"})
    assert answer.status_code == 401
    assert "wrong" in answer.text and COOKIE not in answer.cookies
    assert answer.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/docs", "/ui\\x"])
def test_sign_in_never_sends_the_user_off_the_ui(http: TestClient, site: Site, target: str) -> None:
    answer = http.post("/ui/signin", data={"api_key": site.keys["nadia"], "next": target})
    assert answer.status_code == 303 and answer.headers["location"] == "/ui/"


def test_sign_out_needs_the_forms_csrf_token(http: TestClient, site: Site) -> None:
    csrf = sign_in(http, site, "nadia")
    refused = http.post("/ui/signout", data={"csrf": "forged"})
    assert refused.status_code == 403 and "text/html" in refused.headers["content-type"]
    assert http.get("/ui/").status_code == 200  # still signed in
    assert http.post("/ui/signout", data={"csrf": csrf}).status_code == 303
    assert http.get("/ui/").status_code == 303  # signed out: back to the sign-in page


def test_the_query_is_escaped_where_it_is_shown(http: TestClient, site: Site) -> None:
    sign_in(http, site, "nadia")
    hostile = "</textarea><script>alert(1)</script> ceasefire"
    page = http.get("/ui/", params={"q": hostile}).text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;/textarea&gt;&lt;script&gt;" in page
    assert 'class="card"' in page


def test_a_bad_filter_is_shown_on_the_page_not_as_json(http: TestClient, site: Site) -> None:
    sign_in(http, site, "nadia")
    answer = http.get("/ui/", params={"q": "ceasefire", "doc_type": "poem"})
    assert answer.status_code == 200 and 'role="alert"' in answer.text and "poem" in answer.text


def test_hidden_and_missing_documents_answer_alike(http: TestClient, site: Site) -> None:
    sign_in(http, site, "nadia")
    hidden = http.get(f"/ui/documents/{HIDDEN}")
    missing = http.get("/ui/documents/no-such-document-at-all")
    assert hidden.status_code == missing.status_code == 404
    assert "text/html" in hidden.headers["content-type"]
    assert "Kestria-Orlav" not in hidden.text
    assert hidden.text.replace(HIDDEN, "ID") == missing.text.replace(
        "no-such-document-at-all", "ID"
    )
    assert http.get(f"/ui/similar/{HIDDEN}").status_code == 404


def test_linked_documents_are_shown_only_when_visible(http: TestClient, site: Site) -> None:
    """The hidden evaluation evaluates a public agreement: nadia sees the agreement, not the
    link; eva sees both."""
    target = "tamsin-plateau-border-demarcation-agreement-2003"
    sign_in(http, site, "nadia")
    assert "Kestria-Orlav" not in http.get(f"/ui/documents/{target}").text
    http.cookies.clear()
    sign_in(http, site, "eva")
    assert "Kestria-Orlav" in http.get(f"/ui/documents/{target}").text


def test_static_files_are_served(http: TestClient) -> None:
    css = http.get("/ui/static/app.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]
    assert http.get("/ui/static/app.js").status_code == 200


# The pages anyone may open: the rest need a session (and their own role, checked per page).
OPEN_PAGES = {("GET", "/ui/signin"), ("POST", "/ui/signin"), ("GET", "/ui")}


def test_every_page_but_sign_in_sends_a_stranger_to_sign_in(http: TestClient) -> None:
    pages = [
        (method, route.path)
        for route in routes(http.app, pages=True)
        for method in sorted(route.methods)
    ]
    assert ("GET", "/ui/") in pages and len(pages) >= 5
    for method, path in pages:
        if (method, path) in OPEN_PAGES:
            continue
        url = path.replace("{document_id}", "x").replace("{pack_id}", "1")
        url = re.sub(r"\{[a-z_]+\}", "1", url)
        answer = http.request(method, url, data={"csrf": "x"} if method == "POST" else None)
        if method == "GET":
            assert answer.status_code == 303, (method, path)
            assert answer.headers["location"].startswith("/ui/signin?next="), (method, path)
        else:  # a change without a session is refused before anything happens
            assert answer.status_code in (303, 401, 403), (method, path, answer.status_code)


def test_an_upload_over_the_limit_gets_a_page_not_json(site: Site) -> None:
    settings = site.settings.model_copy(update={"max_request_mb": 1})
    with TestClient(create_app(settings, kb=site.kb), follow_redirects=False) as http:
        sign_in(http, site, "eva")
        answer = http.post(
            "/ui/upload",
            files={"files": ("big.txt", b"x" * (2 * 1024 * 1024), "text/plain")},
            data={"csrf": "x"},
        )
    assert answer.status_code == 413
    assert answer.headers["content-type"].startswith("text/html")
    assert "1 MiB limit" in answer.text and "<h1>Too large</h1>" in answer.text


def test_results_and_listings_page_on(http: TestClient, site: Site) -> None:
    sign_in(http, site, "root")
    first = http.get("/ui/", params={"q": "ceasefire agreement", "mode": "dense"}).text
    assert "Page 1 of" in first and 'rel="next"' in first
    next_link = first.split('rel="next" href="?', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert "mode=dense" in next_link and "page=2" in next_link
    second = http.get(f"/ui/?{next_link}").text
    assert "Page 2 of" in second and 'rel="prev"' in second
    assert 'start="11"' in second  # numbering goes on from the first page
    browse = http.get("/ui/").text  # 18 documents, 10 a page
    assert "Page 1 of 2" in browse
