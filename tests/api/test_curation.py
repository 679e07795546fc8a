"""Evaluators' changes over HTTP: PATCH, the trash, versions, relations, the audit log."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kb.settings import Settings
from tests.api.conftest import add_user, bearer
from tests.api.contract import assert_error, ids
from tests.api.corpus import ALL_IDS, AUREL, DDR, DELTA
from tests.api.test_documents import NOTE, search, stats, upload, uploaded

pytestmark = pytest.mark.backends


def ok(response: Any, code: int = 200) -> Any:
    assert response.status_code == code, response.text
    return response.json()


def test_patch_edits_metadata_without_reembedding_and_filters_see_it(
    client: TestClient, settings: Settings
) -> None:
    chunks = ok(client.get(f"/documents/{DDR}"))["chunks"]
    assert ids(search(client, q="demobilisation", filter="stage=implementation")) == []

    edited = ok(
        client.patch(
            f"/documents/{DDR}",
            json={
                "title": "Highlands DDR Review",
                "date": "March 2006",
                "metadata": {"stage": "implementation"},
            },
            headers=bearer(add_user(settings, "evaluator-7", "evaluator")),
        )
    )

    assert edited["title"] == "Highlands DDR Review" and edited["date"] == "2006-03"
    assert edited["metadata"]["stage"] == "implementation" and edited["metadata"]["year"] == 2006
    assert ok(client.get(f"/documents/{DDR}"))["chunks"] == chunks
    assert ids(search(client, q="demobilisation", filter="stage=implementation")) == [DDR]
    assert ids(search(client, q="demobilisation", date_from="2006-03", date_to="2006-03")) == [DDR]
    entry = ok(client.get("/audit", params={"document_id": DDR, "action": "edit"}))["items"][0]
    assert entry["actor"] == "api:evaluator-7"
    assert entry["after"]["title"] == "Highlands DDR Review"
    assert entry["before"]["metadata"] != entry["after"]["metadata"]

    removed = ok(client.patch(f"/documents/{DDR}", json={"metadata": {"stage": None}}))
    assert "stage" not in removed["metadata"]


def test_a_list_field_sent_as_text_is_split_on_semicolons(client: TestClient) -> None:
    edited = ok(
        client.patch(
            f"/documents/{AUREL}",
            json={"metadata": {"countries": "Marvania; Trevia", "parties": " North ;South; "}},
        )
    )
    assert edited["metadata"]["countries"] == ["Marvania", "Trevia"]
    assert edited["metadata"]["parties"] == ["North", "South"]
    assert ok(client.get(f"/documents/{AUREL}"))["metadata"]["countries"] == ["Marvania", "Trevia"]

    sent = upload(client, "isles.md", NOTE, metadata=json.dumps({"themes": "fisheries; truce"}))
    added = ok(client.get(f"/documents/{uploaded(sent, 'added')['document_id']}"))
    assert added["metadata"]["themes"] == ["fisheries", "truce"]


def test_patch_that_breaks_the_schema_is_422_naming_the_field_and_changes_nothing(
    client: TestClient,
) -> None:
    before = ok(client.get(f"/documents/{AUREL}"))
    response = client.patch(
        f"/documents/{AUREL}", json={"metadata": {"stage": "armistice", "parties": None}}
    )
    body = assert_error(response, 422, "invalid_metadata")
    assert {(d["source"], d["field"]) for d in body["detail"]} == {
        (AUREL, "stage"),
        (AUREL, "parties"),
    }
    assert ok(client.get(f"/documents/{AUREL}")) == before
    assert ok(client.get("/audit", params={"action": "edit"}))["total"] == 0

    # A type change must bring the new type's required fields.
    moved = client.patch(f"/documents/{AUREL}", json={"doc_type": "evaluation"})
    assert {d["field"] for d in assert_error(moved, 422, "invalid_metadata")["detail"]} == {
        "region",
        "programme",
    } - set(before["metadata"])


def test_patch_refuses_what_it_cannot_do(client: TestClient) -> None:
    assert_error(client.patch("/documents/nowhere", json={"title": "X"}), 404, "not_found")
    assert_error(client.patch(f"/documents/{DDR}", json={"date": "soon"}), 422, "invalid_request")
    assert_error(
        client.patch(f"/documents/{DDR}", json={"doc_type": "poem"}), 422, "invalid_request"
    )
    assert_error(client.patch(f"/documents/{DDR}", json={"title": ""}), 422, "invalid_request")


def test_delete_then_restore_then_purge(client: TestClient) -> None:
    before = stats(client)
    ok(client.delete(f"/documents/{AUREL}"))
    trash = ok(client.get("/trash"))
    assert [d["document_id"] for d in trash["items"]] == [AUREL]
    assert trash["items"][0]["deleted_by"] == "api:admin" and trash["items"][0]["purge_after"]
    assert AUREL not in ids(search(client, q="ceasefire cantonment"))
    assert stats(client)["documents"] == before["documents"] - 1

    restored = ok(client.post(f"/documents/{AUREL}/restore"))
    assert restored["document_id"] == AUREL
    assert ids(search(client, q="cantonment", mode="keyword")) == [AUREL]
    assert stats(client) == {**before, "generation": stats(client)["generation"]}
    assert_error(client.post(f"/documents/{AUREL}/restore"), 404, "not_found")

    ok(client.delete(f"/documents/{AUREL}"))
    assert ok(client.delete(f"/trash/{AUREL}")) == {"purged": [AUREL]}
    assert_error(client.post(f"/documents/{AUREL}/restore"), 404, "not_found")
    assert ok(client.get("/trash"))["total"] == 0
    assert ok(client.post("/trash/purge")) == {"purged": []}
    actions = [
        e["action"] for e in ok(client.get("/audit", params={"document_id": AUREL}))["items"]
    ]
    assert actions == ["purge", "delete", "restore", "delete", "add"]


def test_a_new_version_is_history_and_search_sees_the_current_one(client: TestClient) -> None:
    uploaded(upload(client, "isles.md", NOTE, document_id="isles"), "added")
    newer = NOTE.replace("fishing cooperatives", "lighthouse keepers")
    uploaded(upload(client, "isles-v2.md", newer, document_id="isles"), "updated")

    versions = ok(client.get("/documents/isles/versions"))["versions"]
    assert [(v["version"], v["current"]) for v in versions] == [(2, True), (1, False)]
    assert versions[1]["source_name"] == "isles.md" and versions[1]["replaced_at"]
    old = ok(client.get("/documents/isles/versions/1"))
    assert "fishing cooperatives" in old["passages"][0]["text"]
    assert ids(search(client, q="lighthouse keepers", mode="keyword")) == ["isles"]
    assert ids(search(client, q="cooperatives", mode="keyword")) == []
    assert_error(client.get("/documents/isles/versions/9"), 404, "not_found")


def test_the_same_file_under_another_name_is_a_duplicate(client: TestClient) -> None:
    uploaded(upload(client, "isles.md", NOTE), "added")
    body = uploaded(upload(client, "copy of isles.md", NOTE), "duplicate")
    assert (body["document_id"], body["duplicate_of"]) == ("copy-of-isles", "isles")
    assert body["document"]["document_id"] == "isles" and body["chunks"] == 0
    assert ok(client.get("/documents", params={"limit": 50}))["total"] == len(ALL_IDS) + 1


def test_relations_show_on_documents_and_filter_search(client: TestClient) -> None:
    created = ok(
        client.post(
            f"/documents/{DDR}/relations", json={"relation": "evaluates", "target_id": AUREL}
        ),
        201,
    )
    assert [(r["label"], r["document_id"]) for r in created["relations"]] == [("evaluates", AUREL)]
    ok(
        client.post(
            f"/documents/{DELTA}/relations", json={"relation": "draws-on", "target_id": DDR}
        ),
        201,
    )

    detail = ok(client.get(f"/documents/{AUREL}"))
    assert [(r["label"], r["document_id"]) for r in detail["relations"]] == [("evaluated-by", DDR)]
    assert ids(search(client, q="lessons evaluation ceasefire", filter=f"evaluates={AUREL}")) == [
        DDR
    ]
    assert ids(search(client, q="lessons evaluation", filter=f"drawn-on-by={DELTA}")) == [DDR]
    assert_error(
        client.post(f"/documents/{DDR}/relations", json={"relation": "likes", "target_id": AUREL}),
        422,
        "invalid_request",
    )
    assert_error(
        client.post(
            f"/documents/{DDR}/relations", json={"relation": "evaluates", "target_id": "x"}
        ),
        404,
        "not_found",
    )
    ok(client.delete(f"/documents/{DDR}/relations/evaluates/{AUREL}"))
    assert ok(client.get(f"/documents/{AUREL}/relations"))["relations"] == []
    assert_error(client.delete(f"/documents/{DDR}/relations/evaluates/{AUREL}"), 404, "not_found")


def test_audit_pages_newest_first(client: TestClient) -> None:
    first = ok(client.get("/audit", params={"limit": 2}))
    assert first["total"] == len(ALL_IDS) and len(first["items"]) == 2
    rest = ok(client.get("/audit", params={"limit": 50, "offset": 2}))
    every = first["items"] + rest["items"]
    assert sorted(e["document_id"] for e in every) == sorted(ALL_IDS)
    assert [e["audit_id"] for e in every] == sorted((e["audit_id"] for e in every), reverse=True)
    assert {e["action"] for e in every} == {"add"}
    assert_error(client.get("/audit", params={"limit": 0}), 422, "invalid_request")


def test_patch_changes_a_marking_and_the_document_hides_at_once(
    client: TestClient, settings: Settings
) -> None:
    reader = bearer(add_user(settings, "ria", "reader", "internal"))
    evaluator = bearer(add_user(settings, "eve", "evaluator", "restricted"))
    assert ok(client.get(f"/documents/{DDR}", headers=reader))["classification"] == "internal"

    marked = ok(client.patch(f"/documents/{DDR}", json={"classification": "restricted"}))
    assert (marked["classification"], marked["groups"]) == ("restricted", [])
    assert_error(client.get(f"/documents/{DDR}", headers=reader), 404, "not_found")
    assert DDR not in ids(search(client.__class__(client.app, headers=reader), q="demobilisation"))

    above = client.patch(
        f"/documents/{DDR}", json={"classification": "confidential"}, headers=evaluator
    )
    assert_error(above, 403, "forbidden")
    # Even an admin may not restrict a document to groups they are not in: they would lose it.
    assert_error(client.patch(f"/documents/{DDR}", json={"groups": ["ddr-team"]}), 403)
    assert ok(client.get(f"/documents/{DDR}", headers=evaluator))["groups"] == []
