"""Every bad input refused at a bounded cost: a query or theme over KB_MAX_QUERY_CHARS is
refused at once, naming the limit."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from kb.settings import Settings
from tests.api.contract import assert_error


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
