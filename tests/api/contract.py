"""The response shapes the interfaces promise, checked the same way everywhere."""

from __future__ import annotations

from typing import Any

RESULT_KEYS = {"document_id", "title", "doc_type", "score", "metadata", "passages"}
PASSAGE_KEYS = {"chunk_id", "text", "page_start", "page_end", "snippet"}
ERROR_KEYS = {"ok", "status", "error", "message"}


def assert_search_shape(body: dict[str, Any]) -> list[dict[str, Any]]:
    """A search response: query, results with passages; results best first. Returns results."""
    assert {"query", "results", "mode", "total", "limit", "offset", "notices"} <= set(body)
    assert isinstance(body["query"], str)
    assert isinstance(body["notices"], list)
    results: list[dict[str, Any]] = body["results"]
    assert isinstance(results, list)
    for result in results:
        assert RESULT_KEYS <= set(result), result
        assert isinstance(result["document_id"], str)
        assert isinstance(result["title"], str)
        assert isinstance(result["score"], float)
        assert isinstance(result["metadata"], dict)
        assert result["passages"], f"{result['document_id']} came back without passages"
        for passage in result["passages"]:
            assert PASSAGE_KEYS <= set(passage), passage
            assert isinstance(passage["chunk_id"], int)
            assert isinstance(passage["text"], str) and passage["text"]
            assert isinstance(passage["snippet"], str) and passage["snippet"]
            assert 1 <= passage["page_start"] <= passage["page_end"]
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True), scores
    assert len({r["document_id"] for r in results}) == len(results), "a document twice"
    return results


def ids(body: dict[str, Any]) -> list[str]:
    return [r["document_id"] for r in body["results"]]


def assert_error(response: Any, status: int, error: str | None = None) -> dict[str, Any]:
    """The one error body: {"ok": false, "status", "error", "message"[, "detail"]}."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert ERROR_KEYS <= set(body) <= ERROR_KEYS | {"detail"}, body
    assert body["ok"] is False
    assert body["status"] == status
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["message"], str) and body["message"]
    if error is not None:
        assert body["error"] == error, body
    return body
