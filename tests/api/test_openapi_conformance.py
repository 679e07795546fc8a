"""What schemathesis's coverage phase sends beyond generated values, for every operation: a body
that cannot be parsed gets a documented status in the one error shape, and a method a path does
not take gets 405 with an Allow header naming the methods the schema documents for it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.contract import assert_error

pytestmark = pytest.mark.backends

PLACEHOLDER = re.compile(r"\{([^}]+)\}")


def concrete(path: str, parameters: list[dict[str, Any]]) -> str:
    """The path with each parameter filled in: 1 for a number, a word for text."""
    kinds = {p["name"]: p.get("schema", {}).get("type") for p in parameters if p["in"] == "path"}
    return PLACEHOLDER.sub(lambda m: "1" if kinds.get(m.group(1)) == "integer" else "x", path)


def pattern(template: str) -> str:
    """The urls a path template takes (the router matches a path before it reads its values:
    PATCH /packs/{pack_id} is routed for /packs/suggest too, to answer 422)."""
    return PLACEHOLDER.sub("[^/]+", template)


def operations(client: TestClient) -> list[tuple[str, str, dict[str, Any]]]:
    paths = client.get("/openapi.json").json()["paths"]
    return [(path, method, spec) for path, item in paths.items() for method, spec in item.items()]


def test_an_unparseable_body_gets_a_documented_status(client: TestClient) -> None:
    tried = 0
    for path, method, spec in operations(client):
        body = spec.get("requestBody")
        if body is None:
            continue
        for media_type in body["content"]:
            url = concrete(path, spec.get("parameters", []))
            answer = client.request(
                method, url, content=b'{"unclosed": [', headers={"content-type": media_type}
            )
            assert answer.status_code < 500, (method, path, answer.text)
            assert str(answer.status_code) in spec["responses"], (method, path, answer.text)
            assert_error(answer, answer.status_code)
            tried += 1
    assert tried >= 10


def test_a_method_a_path_does_not_take_is_405_naming_the_ones_it_does(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path, item in paths.items():
        url = concrete(path, next(iter(item.values())).get("parameters", []))
        # Every template the url fits: DELETE /trash/{document_id} takes /trash/purge too.
        documented = {
            method.upper()
            for template, methods in paths.items()
            if re.fullmatch(pattern(template), url)
            for method in methods
        }
        spare = next(m for m in ("OPTIONS", "TRACE") if m not in documented)
        answer = client.request(spare, url)
        assert answer.status_code == 405, (spare, path, answer.status_code)
        assert set(answer.headers["allow"].split(", ")) == documented, (path, answer.headers)
