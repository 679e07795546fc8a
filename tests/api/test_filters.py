"""Filters over HTTP: a bad value or an unknown key is refused (422) wherever filters are taken,
naming the key and what it takes; a key only hidden documents hold is refused exactly as a key
no document holds, so a refusal tells nothing of what is hidden."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from kb.settings import Settings
from tests.api.conftest import add_user, bearer
from tests.api.contract import assert_error
from tests.api.corpus import AUREL

pytestmark = pytest.mark.backends

# (key, value, what the refusal says)
BAD = [
    (
        "year_min",
        "abc",
        "year_min takes a number or a date (YYYY, YYYY-MM or YYYY-MM-DD), not 'abc'",
    ),
    ("date_from", "2020-13-45", "date_from takes one real date as YYYY, YYYY-MM or YYYY-MM-DD"),
    ("date_to", "2019-02-29", "date_to takes one real date"),
    ("evaluates", "not an id", "evaluates takes a document id"),
    ("colour", "blue", "unknown filter key 'colour': filters take doc_type, date_from"),
    ("colour_max", "3", "unknown filter key 'colour_max' ('colour' is not a metadata key)"),
    ("REGION", "Aurel Highlands", "did you mean 'region'?"),
]
Ask = Callable[[TestClient, str, str], Response]


def routes(similar_to: str) -> dict[str, Ask]:
    """Every route that takes filters, asked with one filter `key=value`."""
    return {
        "GET /search": lambda h, k, v: h.get(
            "/search", params={"q": "peace", "filter": f"{k}={v}"}
        ),
        "POST /search": lambda h, k, v: h.post(
            "/search", json={"query": "peace", "filters": {k: v}}
        ),
        "GET /documents": lambda h, k, v: h.get("/documents", params={"filter": f"{k}={v}"}),
        "GET /facets": lambda h, k, v: h.get("/facets", params={"filter": f"{k}={v}"}),
        "GET /similar": lambda h, k, v: h.get(
            f"/documents/{similar_to}/similar", params={"filter": f"{k}={v}"}
        ),
        "POST /packs/suggest": lambda h, k, v: h.post(
            "/packs/suggest", json={"theme": "peace", "filters": {k: v}}
        ),
    }


@pytest.mark.parametrize("route", sorted(routes(AUREL)))
def test_a_bad_filter_is_refused_wherever_filters_are_taken(reader: TestClient, route: str) -> None:
    for key, value, says in BAD:
        body = assert_error(routes(AUREL)[route](reader, key, value), 422, "invalid_request")
        assert says in body["message"], (key, body["message"])


def test_the_audit_log_refuses_a_since_that_is_no_time(reader: TestClient) -> None:
    for since in ("garbage", "2024-13-01", "2024-02-30T10:00", "9999-12-31T23:59-23:00"):
        body = assert_error(reader.get("/audit", params={"since": since}), 422, "invalid_request")
        assert body["message"].startswith("since takes a date") and repr(since) in body["message"]
    everything = reader.get("/audit").json()["total"]
    assert everything > 0
    # An empty since (a form left blank) is no bound.
    bounds = ("", "2000", "2000-01", "2000-01-01", "2000-01-01T00:00", "2000-01-01T02:00+02:00")
    for since in bounds:
        assert reader.get("/audit", params={"since": since}).json()["total"] == everything
    for since in ("9999", "9999-01-01T00:00:00Z"):
        assert reader.get("/audit", params={"since": since}).json()["total"] == 0


def upload(http: TestClient, name: str, metadata: dict[str, Any], classification: str) -> None:
    text = f"# {name}\n\nThe {name} commission heard the ceasefire monitors of the river sector.\n"
    response = http.post(
        "/documents",
        files={"file": (f"{name}.md", text.encode())},
        data={
            "doc_type": "other",
            "metadata": json.dumps(metadata),
            "classification": classification,
        },
    )
    assert response.status_code == 201, response.text


def test_a_key_only_hidden_documents_hold_is_refused_as_a_key_nothing_holds(
    bare_client: TestClient, settings: Settings
) -> None:
    upload(bare_client, "open", {"Reg": "Europe and Eurasia"}, "public")
    upload(bare_client, "secret", {"codeword": "basalt"}, "confidential")
    reader = TestClient(
        bare_client.app, headers=bearer(add_user(settings, "pat", "reader", "public"))
    )
    for route, ask in routes("open").items():
        hidden, nowhere = ask(reader, "codeword", "basalt"), ask(reader, "codewort", "basalt")
        assert hidden.status_code == nowhere.status_code == 422, route
        assert hidden.json()["message"].replace("codeword", "KEY") == nowhere.json()[
            "message"
        ].replace("codewort", "KEY"), route
        assert "basalt" not in hidden.text
        assert ask(reader, "Reg", "europe and eurasia").status_code == 200, route
    # The admin sees the secret document, so its key is a filter for them.
    found = bare_client.get("/documents", params={"filter": "codeword=BASALT"}).json()
    assert [d["document_id"] for d in found["items"]] == ["secret"]
