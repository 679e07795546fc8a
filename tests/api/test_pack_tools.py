"""POST /packs/suggest and GET /packs/{pack_id}/export over real HTTP (the leak matrix in
tests/api/test_leaks.py covers what each user sees)."""

from __future__ import annotations

from io import BytesIO

from fastapi.testclient import TestClient
from pypdf import PdfReader

from kb.knowledge_base import KnowledgeBase
from tests.api.contract import assert_error
from tests.api.corpus import AUREL, COASTAL, DDR


def test_suggest_answers_the_contract_shape(client: TestClient) -> None:
    response = client.post(
        "/packs/suggest",
        json={
            "theme": "ceasefire monitoring",
            "filters": {"doc_type": "agreement"},
            "limit": 2,
            "order": "chronological",
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert list(body) == ["theme", "items"]
    assert [i["document_id"] for i in body["items"]] == [AUREL, COASTAL]  # 1998, then 2005
    assert all(i["why"] and isinstance(i["chunk_id"], int) for i in body["items"])
    assert_error(client.post("/packs/suggest", json={"theme": "x", "limit": 0}), 422)
    assert_error(client.post("/packs/suggest", json={"theme": "x", "order": "abc"}), 422)
    assert_error(client.post("/packs/suggest", json={"theme": "   "}), 422)


def test_export_is_an_attachment_of_its_type(client: TestClient, corpus: KnowledgeBase) -> None:
    pack = corpus.create_pack("Monitoring: “week 1”", "trainer", "mediators")
    corpus.add_to_pack(pack.pack_id, AUREL, note="read first")
    corpus.add_to_pack(pack.pack_id, DDR)
    for fmt, media in (("md", "text/markdown"), ("html", "text/html"), ("pdf", "application/pdf")):
        response = client.get(f"/packs/{pack.pack_id}/export", params={"format": fmt})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith(media)
        assert response.headers["content-disposition"] == (
            f'attachment; filename="pack-{pack.pack_id}-monitoring-week-1.{fmt}"'
        )
        text = (
            " ".join(p.extract_text() for p in PdfReader(BytesIO(response.content)).pages)
            if fmt == "pdf"
            else response.text
        )
        assert "Aurel Highlands Ceasefire Agreement" in text and "read first" in text
    assert_error(client.get("/packs/999/export"), 404, "not_found")
    assert_error(client.get(f"/packs/{pack.pack_id}/export", params={"format": "docx"}), 422)
