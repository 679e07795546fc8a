"""Originals over HTTP: an upload of each kind comes back byte for byte from
GET /documents/{id}/original, inline, with its media type and headers a browser's PDF viewer
accepts; GET /facets counts what the filters pass."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ingest.readers import MEDIA_TYPES
from tests.kb.test_originals import FILES

pytestmark = pytest.mark.backends


@pytest.mark.parametrize("name", sorted(FILES))
def test_an_upload_is_served_back_byte_for_byte(bare_client: TestClient, name: str) -> None:
    data, media_type = FILES[name]
    response = bare_client.post(
        "/documents", files={"file": (name, data)}, data={"doc_type": "other"}
    )
    assert response.status_code == 201, response.text
    document_id = response.json()["document_id"]
    assert response.json()["document"]["has_original"] is True

    served = bare_client.get(f"/documents/{document_id}/original")
    assert served.status_code == 200, served.text
    assert served.content == data
    assert served.headers["content-type"].split(";")[0] == media_type
    assert served.headers["content-disposition"] == f'inline; filename="{name}"'
    # Our own pages may frame it (a PDF beside its passages); other sites may not.
    assert served.headers["x-frame-options"] == "SAMEORIGIN"
    assert served.headers["x-content-type-options"] == "nosniff"
    policy = served.headers.get("content-security-policy")
    if media_type == "text/html":
        assert policy is not None and policy.startswith("sandbox;")  # no scripts, own origin
    else:
        assert policy is None  # Chromium's PDF viewer will not run in a sandboxed document
    assert bare_client.get(f"/documents/{document_id}").json()["has_original"] is True
    versions = bare_client.get(f"/documents/{document_id}/versions").json()["versions"]
    assert [v["has_original"] for v in versions] == [True]
    version = bare_client.get(f"/documents/{document_id}/versions/1/original")
    assert version.content == data
    assert version.headers["content-type"].split(";")[0] == media_type


def test_originals_are_declared_with_the_types_they_are_served_as(bare_client: TestClient) -> None:
    paths = bare_client.app.openapi()["paths"]  # type: ignore[attr-defined]
    served = {*MEDIA_TYPES.values(), "application/octet-stream"}
    for path in (
        "/documents/{document_id}/original",
        "/documents/{document_id}/versions/{version}/original",
    ):
        content = paths[path]["get"]["responses"]["200"]["content"]
        assert set(content) == served, path
        assert all(c["schema"] == {"type": "string", "format": "binary"} for c in content.values())


def test_a_duplicate_upload_keeps_no_second_copy(bare_client: TestClient, tmp_path: Path) -> None:
    data = FILES["accord.pdf"][0]
    for document_id in ("first", "second"):
        response = bare_client.post(
            "/documents",
            files={"files": ("accord.pdf", data)},
            data={
                "doc_type": "other",
                "items": f'{{"accord.pdf": {{"document_id": "{document_id}"}}}}',
            },
        )
        assert response.status_code == 201, response.text
    statuses = [bare_client.get(f"/documents/{d}").status_code for d in ("first", "second")]
    assert statuses == [200, 404]  # the second was refused as a duplicate of the first
    store = bare_client.app.state.kb.store  # type: ignore[attr-defined]
    assert len(store.originals.stored()) == 1  # the folder's files, or the database's


def test_a_missing_document_has_no_original(bare_client: TestClient) -> None:
    response = bare_client.get("/documents/nothing-here/original")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_facets_count_what_the_filters_pass(reader: TestClient) -> None:
    everything = reader.get("/facets").json()
    listed = reader.get("/documents", params={"limit": 100}).json()
    assert everything["total"] == listed["total"]
    types = {v["value"]: v["count"] for v in everything["facets"]["doc_type"]}
    for doc_type, count in types.items():
        narrowed = reader.get("/facets", params={"filter": f"doc_type={doc_type}"}).json()
        assert narrowed["total"] == count
        assert narrowed["facets"]["doc_type"] == [{"value": doc_type, "count": count}]
    counts = [v["count"] for v in everything["facets"]["doc_type"]]
    assert counts == sorted(counts, reverse=True)
    bad = reader.get("/facets", params={"filter": "no-equals-sign"})
    assert bad.status_code == 422
