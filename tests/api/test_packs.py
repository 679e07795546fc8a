"""Reading packs over real HTTP: a trainer builds, edits, reorders, copies and deletes a pack;
each item comes with its document and passage; what a user may not see stays withheld and
answers like a missing item."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from kb.knowledge_base import KnowledgeBase
from kb.settings import Settings
from tests.api.conftest import add_user, bearer
from tests.api.contract import assert_error
from tests.api.corpus import AUREL, DDR, DELTA

pytestmark = pytest.mark.backends


def ok(response: Any, code: int = 200) -> Any:
    assert response.status_code == code, response.text
    return response.json()


def passage_of(client: TestClient, document_id: str) -> dict[str, Any]:
    chunk: dict[str, Any] = ok(client.get(f"/documents/{document_id}"))["chunks"][-1]
    return chunk


def test_a_trainer_builds_edits_copies_and_deletes_a_pack(
    client: TestClient, settings: Settings
) -> None:
    trainer = bearer(add_user(settings, "tina", "trainer"))
    created = ok(
        client.post(
            "/packs",
            json={"title": "Ceasefire monitoring", "audience": "mediators", "objectives": ["a"]},
            headers=trainer,
        ),
        201,
    )
    assert (created["owner"], created["items"], created["withheld"]) == ("api:tina", [], 0)
    url = f"/packs/{created['pack_id']}"
    passage = passage_of(client, DDR)
    ok(
        client.post(f"{url}/items", json={"document_id": AUREL, "note": "read"}, headers=trainer),
        201,
    )
    ok(client.post(f"{url}/items", json={"document_id": DELTA}, headers=trainer), 201)
    body = {"document_id": DDR, "chunk_id": passage["chunk_id"], "note": "the key passage"}
    pack = ok(client.post(f"{url}/items", json=body, headers=trainer), 201)

    whole, _, part = pack["items"]
    assert whole["title"] == "Aurel Highlands Ceasefire Agreement"
    assert (whole["doc_type"], whole["date"], whole["text"], whole["page_start"]) == (
        "agreement",
        "1998-04-10",
        None,
        None,
    )
    assert (part["text"], part["page_start"], part["page_end"]) == (
        passage["text"],
        passage["page_start"],
        passage["page_end"],
    )
    ids = [i["item_id"] for i in pack["items"]]

    noted = ok(client.patch(f"{url}/items/{ids[1]}", json={"note": "skim"}, headers=trainer))
    assert [i["note"] for i in noted["items"]] == ["read", "skim", "the key passage"]
    order = [ids[2], ids[0], ids[1]]
    moved = ok(client.put(f"{url}/order", json={"item_ids": order}, headers=trainer))
    assert [i["item_id"] for i in moved["items"]] == order
    assert [i["position"] for i in moved["items"]] == [0, 1, 2]
    edited = ok(client.patch(url, json={"title": "Monitoring"}, headers=trainer))
    assert (edited["title"], edited["audience"], edited["objectives"]) == (
        "Monitoring",
        "mediators",
        ["a"],
    )
    assert edited["updated_at"] >= created["updated_at"]

    copy = ok(client.post(f"{url}/duplicate", headers=trainer), 201)
    assert copy["title"] == "Copy of Monitoring" and copy["owner"] == "api:tina"
    assert [i["document_id"] for i in copy["items"]] == [DDR, AUREL, DELTA]
    named = ok(client.post(f"{url}/duplicate", json={"title": "Term 2"}, headers=trainer), 201)
    assert named["title"] == "Term 2"

    left = ok(client.delete(f"{url}/items/{ids[0]}", headers=trainer))
    assert [i["item_id"] for i in left["items"]] == [ids[2], ids[1]]
    listing = ok(client.get("/packs", params={"limit": 2}))
    assert (listing["total"], listing["limit"], len(listing["items"])) == (3, 2, 2)
    rest = ok(client.get("/packs", params={"offset": 2}))
    assert (rest["total"], rest["offset"], len(rest["items"])) == (3, 2, 1)
    counts = {p["pack_id"]: p["item_count"] for p in listing["items"] + rest["items"]}
    assert counts == {created["pack_id"]: 2, copy["pack_id"]: 3, named["pack_id"]: 3}

    deleted = client.delete(url, headers=trainer)
    assert deleted.status_code == 204 and deleted.content == b""
    assert_error(client.get(url), 404, "not_found")
    assert ok(client.get("/packs"))["total"] == 2


def test_hidden_items_are_withheld_and_answer_like_missing_ones(
    client: TestClient, settings: Settings, corpus: KnowledgeBase
) -> None:
    corpus.edit(DDR, {"classification": "confidential"}, "setup")
    pack = ok(client.post("/packs", json={"title": "Mixed"}), 201)
    url = f"/packs/{pack['pack_id']}"
    for document_id in (AUREL, DDR, DELTA):
        pack = ok(client.post(f"{url}/items", json={"document_id": document_id}), 201)
    aurel, ddr, delta = (i["item_id"] for i in pack["items"])
    trainer = bearer(add_user(settings, "tom", "trainer", "internal"))
    reader = bearer(add_user(settings, "rob", "reader", "internal"))

    for who in (trainer, reader):
        seen = ok(client.get(url, headers=who))
        assert [i["document_id"] for i in seen["items"]] == [AUREL, DELTA]
        assert seen["withheld"] == 1 and DDR not in str(seen)
        (summary,) = ok(client.get("/packs", headers=who))["items"]
        assert (summary["item_count"], summary["withheld"]) == (2, 1)

    for method, path, body in (
        ("PATCH", "items/{id}", {"note": "mine"}),
        ("DELETE", "items/{id}", None),
    ):
        hidden = client.request(method, f"{url}/{path.format(id=ddr)}", json=body, headers=trainer)
        missing = client.request(method, f"{url}/{path.format(id=999)}", json=body, headers=trainer)
        assert_error(hidden, 404, "not_found")
        assert hidden.json() == {
            **missing.json(),
            "message": missing.json()["message"].replace("999", str(ddr)),
        }
    refused = client.put(f"{url}/order", json={"item_ids": [delta, ddr]}, headers=trainer)
    assert_error(refused, 422, "invalid_request")
    moved = ok(client.put(f"{url}/order", json={"item_ids": [delta, aurel]}, headers=trainer))
    assert [i["document_id"] for i in moved["items"]] == [DELTA, AUREL]
    full = ok(client.get(url))
    assert [i["document_id"] for i in full["items"]] == [DELTA, DDR, AUREL]  # DDR kept its slot
    assert full["items"][1]["note"] == ""

    copy = ok(client.post(f"{url}/duplicate", headers=trainer), 201)
    assert [i["document_id"] for i in ok(client.get(f"/packs/{copy['pack_id']}"))["items"]] == [
        DELTA,
        AUREL,
    ]


def test_bad_requests_are_refused_with_the_reason(client: TestClient) -> None:
    pack = ok(client.post("/packs", json={"title": "Refusals"}), 201)
    url = f"/packs/{pack['pack_id']}"
    for method, path, body in (
        ("POST", "/packs", {"title": ""}),
        ("POST", "/packs", {"title": "x", "owner": "someone-else"}),
        ("POST", "/packs", {"title": "x", "objectives": ["fine", "  "]}),
        ("PATCH", url, {"title": "   "}),
        ("POST", f"{url}/items", {"document_id": AUREL, "chunk_id": 999999}),
        ("PUT", f"{url}/order", {"item_ids": [1]}),
        ("PUT", f"{url}/order", {}),
    ):
        response = client.request(method, path, json=body)
        assert response.status_code in (404, 422), (method, path, response.text)
        assert_error(response, response.status_code)
    assert_error(client.post(f"{url}/items", json={"document_id": "nope"}), 404, "not_found")
    assert_error(client.post("/packs/999999/duplicate"), 404, "not_found")
    assert ok(client.get(url))["items"] == []
