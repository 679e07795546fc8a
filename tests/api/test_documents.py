"""/documents over HTTP: upload, read, replace, list, delete and "more like this"."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.contract import assert_error, assert_search_shape, ids
from tests.api.corpus import ALL_IDS, AUREL, COASTAL, DDR, DELTA, NEWEST_FIRST, REFUGEE
from tests.docs import make_encrypted_pdf, make_pdf

pytestmark = pytest.mark.backends

Params = list[tuple[str, str | int | float | bool | None]]
NOTE = (
    "# Western Isles Review\n\n"
    "The review found that the fishing cooperatives of the Western Isles kept the truce alive "
    "by sharing catch quotas between former rivals. Harbour committees met every fortnight.\n"
)
VELORIA_PAGES = [
    "Article 1\nThe parties commit to an immediate cessation of hostilities across the "
    "northern provinces and to the release of all detained journalists.",
    "Article 2\nA joint commission will register every quartermaster depot and count the "
    "amphibious tractors stored beside Lake Veloria before the rainy season.",
    "Article 3\nThis agreement enters into force upon signature by both delegations and "
    "remains in force until a comprehensive settlement is reached.",
]


def upload(
    client: TestClient,
    name: str,
    data: bytes | str,
    *,
    content_type: str = "text/markdown",
    **form: str,
) -> Any:
    raw = data.encode() if isinstance(data, str) else data
    return client.post("/documents", files={"file": (name, raw, content_type)}, data=form)


def uploaded(response: Any, status: str) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == status, body
    return body


def search(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get("/search", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert_search_shape(body)
    return body


def stats(client: TestClient) -> dict[str, Any]:
    response = client.get("/stats")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_upload_adds_a_document_with_its_metadata_and_pages(client: TestClient) -> None:
    before = stats(client)
    body = uploaded(
        upload(
            client,
            "isles.md",
            NOTE,
            doc_type="evaluation",
            document_id="isles-review",
            metadata=json.dumps(
                {"region": "Western Isles", "date": "2021-05-03", "programme": "Isles Truce"}
            ),
        ),
        "added",
    )

    assert body["document_id"] == "isles-review"
    assert body["chunks"] >= 1
    document = body["document"]
    assert document["document_id"] == "isles-review"
    assert document["title"] == "Western Isles Review"
    assert document["doc_type"] == "evaluation"
    assert document["date"] == "2021-05-03"
    assert document["metadata"] == {
        "region": "Western Isles",
        "date": "2021-05-03",
        "programme": "Isles Truce",
        "year": 2021,
    }
    assert document["source_name"] == "isles.md"
    assert document["chunk_count"] == body["chunks"]

    detail = client.get("/documents/isles-review")
    assert detail.status_code == 200, detail.text
    stored = detail.json()
    assert {k: stored[k] for k in document} == document
    chunks = stored["chunks"]
    assert len(chunks) == body["chunks"]
    assert [c["ordinal"] for c in chunks] == list(range(len(chunks)))
    assert all(c["page_start"] == c["page_end"] == 1 for c in chunks)
    assert "catch quotas" in " ".join(c["text"] for c in chunks)

    after = stats(client)
    assert after["documents"] == before["documents"] + 1
    assert after["chunks"] == before["chunks"] + body["chunks"]
    assert after["index_vectors"] == after["chunks"]
    assert ids(search(client, q="fishing cooperatives catch quotas"))[0] == "isles-review"


def test_upload_without_a_document_id_takes_it_from_the_file_name(client: TestClient) -> None:
    body = uploaded(upload(client, "Western Isles Review.md", NOTE), "added")
    assert body["document_id"] == "western-isles-review"
    assert body["document"]["doc_type"] == "other"
    assert client.get("/documents/western-isles-review").status_code == 200


def test_a_sentence_from_page_two_is_cited_as_page_two(client: TestClient) -> None:
    pdf = make_pdf(VELORIA_PAGES, title="Veloria Accord")
    body = uploaded(
        upload(
            client,
            "veloria.pdf",
            pdf,
            content_type="application/pdf",
            doc_type="agreement",
            document_id="veloria-accord",
            metadata=json.dumps(
                {"date": "2003", "parties": ["North", "South"], "stage": "ceasefire"}
            ),
        ),
        "added",
    )
    assert body["document"]["title"] == "Veloria Accord"

    chunks = client.get("/documents/veloria-accord").json()["chunks"]
    assert sorted({c["page_start"] for c in chunks}) == [1, 2, 3]
    for mode in ("keyword", "hybrid", "dense"):
        found = search(client, q="amphibious tractors at Lake Veloria", mode=mode)
        assert ids(found)[0] == "veloria-accord", mode
        best = found["results"][0]["passages"][0]
        assert "amphibious tractors" in best["text"]
        assert (best["page_start"], best["page_end"]) == (2, 2), mode


def test_a_pdf_encrypted_only_for_permissions_is_read(client: TestClient) -> None:
    pdf = make_encrypted_pdf("", VELORIA_PAGES)
    body = uploaded(upload(client, "open.pdf", pdf, content_type="application/pdf"), "added")
    assert body["document_id"] == "open"
    assert ids(search(client, q="amphibious tractors", mode="keyword")) == ["open"]


def test_the_same_bytes_again_are_unchanged(client: TestClient) -> None:
    form = {
        "doc_type": "evaluation",
        "document_id": "isles-review",
        "metadata": json.dumps(
            {"region": "Western Isles", "date": "2021", "programme": "Isles Truce"}
        ),
    }
    first = uploaded(upload(client, "isles.md", NOTE, **form), "added")
    generation = stats(client)["generation"]

    again = uploaded(upload(client, "isles.md", NOTE, **form), "unchanged")

    assert again["document"] == first["document"]
    assert stats(client)["generation"] == generation  # nothing written


def test_the_same_bytes_with_new_metadata_are_updated_in_place(client: TestClient) -> None:
    first = upload(client, "isles.md", NOTE, document_id="isles-review", doc_type="other")
    uploaded(first, "added")
    body = uploaded(
        upload(
            client,
            "isles.md",
            NOTE,
            document_id="isles-review",
            doc_type="evaluation",
            metadata=json.dumps(
                {"region": "Western Isles", "date": "2021", "mission": "Isles Truce Mission"}
            ),
        ),
        "updated",
    )
    assert body["document"]["doc_type"] == "evaluation"
    listed = client.get("/documents", params={"doc_type": "evaluation"}).json()
    assert "isles-review" in [d["document_id"] for d in listed["items"]]
    found = search(client, q="fishing cooperatives", filter="region=western isles")
    assert ids(found) == ["isles-review"]


def test_changed_content_under_the_same_id_replaces_the_old_text(client: TestClient) -> None:
    uploaded(upload(client, "isles.md", NOTE, document_id="isles-review"), "added")
    assert ids(search(client, q="fortnight", mode="keyword")) == ["isles-review"]
    before = stats(client)

    revised = NOTE.replace(
        "Harbour committees met every fortnight.",
        "Lighthouse keepers relayed messages between the islands.",
    )
    body = uploaded(upload(client, "isles-v2.md", revised, document_id="isles-review"), "updated")

    assert body["document"]["source_name"] == "isles-v2.md"
    gone = search(client, q="fortnight", mode="keyword")
    assert gone["results"] == [] and gone["total"] == 0
    assert ids(search(client, q="lighthouse keepers", mode="keyword")) == ["isles-review"]
    text = " ".join(c["text"] for c in client.get("/documents/isles-review").json()["chunks"])
    assert "fortnight" not in text and "Lighthouse keepers" in text
    after = stats(client)
    assert after["documents"] == before["documents"]
    assert after["index_vectors"] == after["chunks"] == before["chunks"]


def test_list_pages_through_every_document_newest_first(reader: TestClient) -> None:
    pages = [reader.get("/documents", params={"limit": 2, "offset": o}).json() for o in (0, 2, 4)]

    for offset, page in zip((0, 2, 4), pages, strict=True):
        assert {"total", "limit", "offset", "items"} <= set(page)
        assert (page["total"], page["limit"], page["offset"]) == (5, 2, offset)
    listed = [d["document_id"] for page in pages for d in page["items"]]
    assert listed == list(NEWEST_FIRST)
    default = reader.get("/documents").json()
    assert default["limit"] == 20 and [d["document_id"] for d in default["items"]] == listed
    item = default["items"][0]
    assert {"document_id", "title", "doc_type", "date", "metadata", "chunk_count"} <= set(item)
    assert "chunks" not in item
    past = reader.get("/documents", params={"offset": 50}).json()
    assert past["items"] == [] and past["total"] == 5


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ([("doc_type", "agreement")], [COASTAL, AUREL]),
        ([("filter", "region=coastal plains")], [COASTAL, REFUGEE]),
        ([("filter", "year_min=2010")], [DELTA, DDR]),
        ([("date_from", "1995"), ("date_to", "2005")], [COASTAL, AUREL]),
        ([("filter", "region=Aurel Highlands"), ("doc_type", "evaluation")], [DDR]),
        ([("filter", "region=Atlantis")], []),
    ],
)
def test_list_filters(reader: TestClient, params: Params, expected: list[str]) -> None:
    page = reader.get("/documents", params=params)
    assert page.status_code == 200, page.text
    assert page.json()["total"] == len(expected)
    assert [d["document_id"] for d in page.json()["items"]] == expected


def test_list_rejects_bad_paging(reader: TestClient) -> None:
    assert_error(reader.get("/documents", params={"limit": 0}), 422)
    assert_error(reader.get("/documents", params={"offset": -1}), 422)
    assert_error(reader.get("/documents", params={"filter": "unknown_key=x"}), 422)


def test_delete_removes_the_document_everywhere(client: TestClient) -> None:
    before = stats(client)
    chunk_count = client.get(f"/documents/{AUREL}").json()["chunk_count"]
    assert ids(search(client, q="cantonment", mode="keyword")) == [AUREL]

    response = client.delete(f"/documents/{AUREL}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["document_id"], body["deleted"]) == (AUREL, True) and body["purge_after"]

    assert_error(client.get(f"/documents/{AUREL}"), 404, "not_found")
    assert search(client, q="cantonment", mode="keyword")["total"] == 0
    for mode in ("hybrid", "dense"):
        found = search(client, q="ceasefire monitoring cantonment", mode=mode)
        assert AUREL not in ids(found) and found["total"] == 4
    after = stats(client)
    assert after["documents"] == before["documents"] - 1
    assert after["chunks"] == before["chunks"] - chunk_count
    assert after["index_vectors"] == after["chunks"]
    assert after["doc_types"]["agreement"] == before["doc_types"]["agreement"] - 1
    assert client.get("/documents").json()["total"] == 4
    assert_error(client.delete(f"/documents/{AUREL}"), 404, "not_found")


def test_similar_returns_other_documents_nearest_first(reader: TestClient) -> None:
    response = reader.get(f"/documents/{AUREL}/similar")
    assert response.status_code == 200, response.text
    body = response.json()
    results = assert_search_shape(body)

    assert AUREL not in ids(body)
    assert set(ids(body)) == ALL_IDS - {AUREL}
    assert body["total"] == 4
    assert ids(body)[0] == DDR  # the evaluation of the same ceasefire's demobilisation
    assert all(
        p["chunk_id"] not in own_chunks(reader, AUREL) for r in results for p in r["passages"]
    )


def own_chunks(reader: TestClient, document_id: str) -> set[int]:
    return {c["chunk_id"] for c in reader.get(f"/documents/{document_id}").json()["chunks"]}


def test_similar_takes_filters_and_paging(reader: TestClient) -> None:
    agreements = reader.get(f"/documents/{DDR}/similar", params={"doc_type": "agreement"}).json()
    assert set(ids(agreements)) == {AUREL, COASTAL}
    first = reader.get(f"/documents/{DDR}/similar", params={"limit": 1}).json()
    second = reader.get(f"/documents/{DDR}/similar", params={"limit": 1, "offset": 1}).json()
    whole = reader.get(f"/documents/{DDR}/similar", params={"limit": 2}).json()
    assert ids(first) + ids(second) == ids(whole)


def test_similar_of_a_missing_document_is_404(reader: TestClient) -> None:
    body = assert_error(reader.get("/documents/no-such-document/similar"), 404, "not_found")
    assert "no-such-document" in body["message"]


def test_equality_filters_match_non_ascii_values(client: TestClient) -> None:
    uploaded(
        upload(
            client,
            "equateur.md",
            NOTE,
            document_id="equateur-review",
            metadata=json.dumps({"region": "Équateur"}),
        ),
        "added",
    )
    for value in ("Équateur", "équateur", "ÉQUATEUR"):
        listed = client.get("/documents", params={"filter": f"region={value}"}).json()
        assert [d["document_id"] for d in listed["items"]] == ["equateur-review"], value
        found = search(client, q="fishing cooperatives", filter=f"region={value}")
        assert ids(found) == ["equateur-review"], value


def test_equality_filters_match_boolean_values(client: TestClient) -> None:
    uploaded(
        upload(
            client,
            "signed.md",
            NOTE,
            document_id="signed-review",
            metadata=json.dumps({"signed": True}),
        ),
        "added",
    )
    listed = client.get("/documents", params={"filter": "signed=true"}).json()
    assert [d["document_id"] for d in listed["items"]] == ["signed-review"]


def test_a_json_boolean_filter_in_a_post_body_matches(client: TestClient) -> None:
    uploaded(
        upload(
            client,
            "signed.md",
            NOTE,
            document_id="signed-review",
            metadata=json.dumps({"signed": True}),
        ),
        "added",
    )
    body = {"query": "fishing cooperatives", "filters": {"signed": True}}
    assert ids(client.post("/search", json=body).json()) == ["signed-review"]
    body["filters"] = {"signed": False}
    assert ids(client.post("/search", json=body).json()) == []
