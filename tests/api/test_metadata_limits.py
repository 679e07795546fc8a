"""Metadata is bounded (depth, keys, bytes) before anything is written, and every read path
shows rows stored before the bounds instead of failing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kb.knowledge_base import KnowledgeBase
from kb.metadata.limits import CUT, MAX_BYTES, MAX_DEPTH, MAX_KEYS
from tests.api.contract import assert_error
from tests.api.corpus import DDR
from tests.api.test_documents import NOTE

pytestmark = pytest.mark.backends


def nested(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = {"deeper": value}
    return value


def as_json(depth: int) -> str:
    """A body with metadata nested `depth` levels, written out (json.dumps itself recurses)."""
    return '{"metadata": {"notes": ' + '{"deeper": ' * depth + '"bottom"' + "}" * depth + "}}"


def unchanged(client: TestClient, before: dict[str, Any], audit_total: int) -> None:
    after = client.get(f"/documents/{DDR}")
    assert after.status_code == 200 and after.json()["metadata"] == before["metadata"]
    assert client.get("/audit").json()["total"] == audit_total


@pytest.mark.parametrize("depth", [MAX_DEPTH, 900, 20_000])
def test_a_patch_nested_too_deep_is_422_naming_the_field_and_writes_nothing(
    client: TestClient, depth: int
) -> None:
    before = client.get(f"/documents/{DDR}").json()
    audit_total = client.get("/audit").json()["total"]

    answer = client.patch(
        f"/documents/{DDR}", content=as_json(depth), headers={"content-type": "application/json"}
    )

    if depth < 1_000:  # parsed: the field is named
        assert_error(answer, 422)
        assert answer.json()["error"] == "invalid_metadata"
        assert "notes" in answer.json()["message"]
    else:  # deeper than any JSON parser here goes: a body that cannot be parsed
        assert_error(answer, 400)
    unchanged(client, before, audit_total)


def test_metadata_just_within_the_depth_is_kept(client: TestClient) -> None:
    answer = client.patch(f"/documents/{DDR}", json={"metadata": {"notes": nested(MAX_DEPTH - 2)}})
    assert answer.status_code == 200, answer.text
    assert answer.json()["metadata"]["notes"] == nested(MAX_DEPTH - 2)


@pytest.mark.parametrize(
    "metadata",
    [
        {f"key{n}": n for n in range(MAX_KEYS + 1)},
        {"notes": "x" * (MAX_BYTES + 1)},
    ],
    ids=["keys", "bytes"],
)
def test_too_many_keys_or_bytes_are_refused(client: TestClient, metadata: dict[str, Any]) -> None:
    before = client.get(f"/documents/{DDR}").json()
    audit_total = client.get("/audit").json()["total"]

    answer = client.patch(f"/documents/{DDR}", json={"metadata": metadata})

    assert_error(answer, 422)
    assert "metadata" in answer.json()["message"]
    unchanged(client, before, audit_total)


def test_an_upload_with_metadata_nested_too_deep_adds_nothing(client: TestClient) -> None:
    total = client.get("/documents").json()["total"]
    answer = client.post(
        "/documents",
        files=[("file", ("deep.txt", NOTE.encode(), "text/plain"))],
        data={"metadata": json.dumps({"notes": nested(900)})},
    )
    assert_error(answer, 422)
    assert answer.json()["error"] == "invalid_metadata" and "notes" in answer.json()["message"]
    # Deeper than any JSON parser here goes, in the metadata or the groups: 422, not a 500.
    deepest = as_json(50_000)  # under the form part limit (1 MiB), past the parser
    for form in ({"metadata": deepest}, {"groups": "[" * 100_000 + "]" * 100_000}):
        answer = client.post(
            "/documents", files=[("file", ("deep.txt", NOTE.encode(), "text/plain"))], data=form
        )
        assert_error(answer, 422)
        assert "nests too deeply" in answer.json()["message"]
    assert client.get("/documents").json()["total"] == total


def test_rows_stored_before_the_bounds_are_shown_cut_on_every_read(
    client: TestClient, corpus: KnowledgeBase
) -> None:
    store = corpus.store
    kept = dict(corpus.get_document(DDR).metadata)
    deep = json.dumps({**kept, "notes": nested(300)})  # as an older version let through
    with store._transaction():  # noqa: SLF001 (the row as a past version wrote it)
        store._run(  # noqa: SLF001 (through the dialect's placeholders)
            "UPDATE documents SET metadata = ? WHERE document_id = ?", (deep, DDR)
        )
        store._audit("api:old", "edit", DDR, before={"metadata": {}}, after=json.loads(deep))  # noqa: SLF001
        store._bump_generation()  # noqa: SLF001

    shown = client.get(f"/documents/{DDR}")
    assert shown.status_code == 200, shown.text
    assert CUT in json.dumps(shown.json()["metadata"])
    assert client.get("/documents", params={"limit": 100}).status_code == 200
    found = client.get("/search", params={"q": "demobilisation"})
    assert found.status_code == 200 and DDR in [r["document_id"] for r in found.json()["results"]]
    audit = client.get("/audit", params={"document_id": DDR})
    assert audit.status_code == 200 and CUT in audit.text
    # Removing the key mends the document; the audit keeps showing the old line, cut.
    mended = client.patch(f"/documents/{DDR}", json={"metadata": {"notes": None}})
    assert mended.status_code == 200, mended.text
    assert "notes" not in mended.json()["metadata"]
    assert client.get("/audit").status_code == 200
