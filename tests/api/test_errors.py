"""Every failure over HTTP has one body shape, and a refused upload leaves nothing behind."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from kb.embedding.embedder import Embedder
from kb.knowledge_base import KnowledgeBase
from kb.settings import Settings
from tests.api.conftest import signed_in
from tests.api.contract import assert_error
from tests.docs import make_corrupt_pdf, make_encrypted_pdf, make_pdf, make_scanned_pdf

TEXT = "# Note\n\nA short note about a ceasefire that held for three winters in the hills.\n"


@dataclass(frozen=True)
class BadUpload:
    name: str
    data: bytes
    status: int
    error: str
    form: dict[str, str] = field(default_factory=dict)
    names_file: bool = True


BAD_UPLOADS = {
    "unsupported type": BadUpload(
        "minutes.odt", b"PK\x03\x04 a word document", 415, "unsupported_type"
    ),
    "records file": BadUpload(
        "corpus.jsonl", b'{"_id": "1", "text": "records"}\n', 415, "unsupported_type"
    ),
    "encrypted pdf": BadUpload(
        "locked.pdf",
        make_encrypted_pdf("secret", ["Confidential annex on prisoner release."]),
        422,
        "encrypted",
    ),
    "scanned pdf": BadUpload("scanned.pdf", make_scanned_pdf(2), 422, "no_text_layer"),
    "corrupt pdf": BadUpload("truncated.pdf", make_corrupt_pdf(), 422, "corrupt"),
    "not a pdf": BadUpload("fake.pdf", b"<html>not a pdf</html>", 422, "corrupt"),
    "empty file": BadUpload("empty.md", b"", 422, "empty"),
    "only whitespace": BadUpload("blank.txt", b"  \n\n\t \n", 422, "empty"),
    "bad doc_type": BadUpload(
        "typed.md", TEXT.encode(), 422, "invalid_request", {"doc_type": "treaty"}
    ),
    "bad metadata json": BadUpload(
        "meta.md",
        TEXT.encode(),
        422,
        "invalid_request",
        {"metadata": "{region: north"},
        names_file=False,
    ),
    "metadata not an object": BadUpload(
        "meta.md",
        TEXT.encode(),
        422,
        "invalid_request",
        {"metadata": '["a", "b"]'},
        names_file=False,
    ),
    "bad metadata key": BadUpload(
        "meta.md",
        TEXT.encode(),
        422,
        "invalid_request",
        {"metadata": '{"bad\\"key": 1}'},
        names_file=False,
    ),
    "bad document_id": BadUpload(
        "note.md",
        TEXT.encode(),
        422,
        "invalid_request",
        {"document_id": "../etc/passwd"},
        names_file=False,
    ),
}


def post(client: TestClient, bad: BadUpload) -> Any:
    return client.post(
        "/documents",
        files={"file": (bad.name, bad.data, "application/octet-stream")},
        data=bad.form,
    )


def current(client: TestClient) -> tuple[dict[str, Any], dict[str, Any]]:
    stats = client.get("/stats")
    listing = client.get("/documents", params={"limit": 100})
    assert stats.status_code == listing.status_code == 200
    return stats.json(), listing.json()


@pytest.mark.parametrize("case", list(BAD_UPLOADS))
def test_a_bad_upload_is_refused_in_the_error_shape(bare_client: TestClient, case: str) -> None:
    bad = BAD_UPLOADS[case]
    before = current(bare_client)

    body = assert_error(post(bare_client, bad), bad.status, bad.error)

    if bad.names_file:
        assert bad.name in body["message"], body["message"]
    assert current(bare_client) == before
    assert before[0]["documents"] == 0


def test_bad_metadata_says_what_is_wrong(bare_client: TestClient) -> None:
    body = assert_error(post(bare_client, BAD_UPLOADS["bad metadata json"]), 422)
    assert "metadata" in body["message"] and "JSON" in body["message"]
    body = assert_error(post(bare_client, BAD_UPLOADS["bad doc_type"]), 422)
    assert "treaty" in body["message"] and "agreement" in body["message"]


def test_after_every_kind_of_failure_the_store_is_unchanged(client: TestClient) -> None:
    before = current(client)
    assert before[0]["documents"] == 5

    for bad in BAD_UPLOADS.values():
        assert_error(post(client, bad), bad.status, bad.error)
    assert_error(client.get("/documents/nope"), 404)
    assert_error(client.delete("/documents/nope"), 404)
    assert_error(client.get("/search"), 422)

    assert current(client) == before


@pytest.fixture
def tiny_client(tmp_path: Path, embedder: Embedder) -> Iterator[TestClient]:
    """An app whose upload limit is about one KiB."""
    settings = Settings(store=tmp_path / "tiny", max_upload_mb=0.001)
    with (
        KnowledgeBase(settings, embedder=embedder) as kb,
        signed_in(create_app(settings, kb=kb), settings) as http,
    ):
        yield http


def test_an_upload_over_the_limit_is_413(tiny_client: TestClient) -> None:
    before = current(tiny_client)
    big = ("A sentence about the monitoring of a ceasefire line. " * 60).encode()
    assert len(big) > 1100

    body = assert_error(
        tiny_client.post("/documents", files={"file": ("big-report.md", big, "text/markdown")}),
        413,
        "too_large",
    )

    assert "big-report.md" in body["message"]
    assert current(tiny_client) == before
    small = tiny_client.post(
        "/documents", files={"file": ("small.md", TEXT.encode(), "text/markdown")}
    )
    assert small.status_code == 201, small.text  # under the limit is fine


def test_a_pdf_over_the_limit_is_413(tiny_client: TestClient) -> None:
    pdf = make_pdf(["Page one of a long report."] * 3)
    assert len(pdf) > 1100
    body = assert_error(
        tiny_client.post("/documents", files={"file": ("long.pdf", pdf, "application/pdf")}),
        413,
        "too_large",
    )
    assert "long.pdf" in body["message"]


def test_unknown_document_is_404(reader: TestClient) -> None:
    body = assert_error(reader.get("/documents/no-such-document"), 404, "not_found")
    assert "no-such-document" in body["message"]


def test_unknown_route_is_404(reader: TestClient) -> None:
    assert_error(reader.get("/no/such/route"), 404, "not_found")
    assert_error(reader.get("/documents/x/y/z"), 404, "not_found")


@pytest.mark.parametrize(
    ("method", "path"),
    [("PUT", "/search"), ("DELETE", "/health"), ("PATCH", "/documents"), ("POST", "/stats")],
)
def test_wrong_method_is_405(reader: TestClient, method: str, path: str) -> None:
    assert_error(reader.request(method, path), 405, "method_not_allowed")


def test_missing_query_is_422_with_detail(reader: TestClient) -> None:
    body = assert_error(reader.get("/search"), 422, "invalid_request")
    assert "q" in body["message"]
    assert any(item["loc"][-1] == "q" for item in body["detail"])
    body = assert_error(reader.post("/search", json={"filters": {}}), 422, "invalid_request")
    assert "query" in body["message"]


def test_a_malformed_json_body_is_422(reader: TestClient) -> None:
    response = reader.post(
        "/search", content=b'{"query": ', headers={"content-type": "application/json"}
    )
    assert_error(response, 422, "invalid_request")


@pytest.mark.parametrize(
    "filters",
    [{"doc_type": "treaty"}, {"date_from": "yesterday"}, {'bad"key': "x"}, {"year_min": [1, 2]}],
)
def test_bad_filters_in_a_json_body_are_422(reader: TestClient, filters: dict[str, Any]) -> None:
    assert_error(reader.post("/search", json={"query": "ceasefire", "filters": filters}), 422)


def test_health(reader: TestClient) -> None:
    response = reader.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_openapi_lists_every_route(reader: TestClient) -> None:
    response = reader.get("/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    expected = {
        "/search": {"get", "post"},
        "/documents": {"get", "post"},
        "/documents/{document_id}": {"get", "delete"},
        "/documents/{document_id}/similar": {"get"},
        "/health": {"get"},
        "/stats": {"get"},
    }
    for path, methods in expected.items():
        assert path in paths, sorted(paths)
        assert methods <= set(paths[path]), (path, sorted(paths[path]))
