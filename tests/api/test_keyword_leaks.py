"""A reader's results, scores and order, are exactly the same whether or not documents they may
not see exist: keyword statistics are counted over what the reader may see only."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from kb.settings import Settings
from tests.api.conftest import add_user, bearer

pytestmark = pytest.mark.backends

SEEN = {
    "observer-mission.md": (
        "public",
        "# Observer mission\n\nUnarmed observers patrol the "
        "ceasefire line; the observers report to the joint commission.\n",
    ),
    "border-protocol.md": (
        "public",
        "# Border protocol\n\nThe parties open three crossings "
        "and agree on customs posts at the border.\n",
    ),
    "field-review.md": (
        "internal",
        "# Field review\n\nThe review found that observers on "
        "foot saw more than observers in vehicles; crossings stayed open.\n",
    ),
    "ddr-review.md": (
        "internal",
        "# DDR review\n\nCantonment sites were ready late and "
        "combatants waited at the border for weeks.\n",
    ),
}
HIDDEN = (
    "# Envoy's notes\n\nObservers, observers, observers: the envoy's channel to the observers "
    "of the northern command. Crossings, border, cantonment, quillwort.\n"
)
QUERIES = ["observers", "observers crossings border", '"joint commission" observers']


def upload(client: TestClient, name: str, text: str, classification: str) -> None:
    answer = client.post(
        "/documents",
        files=[("file", (name, text.encode(), "text/markdown"))],
        data={"classification": classification},
    )
    assert answer.status_code == 201, answer.text


def results(client: TestClient, key: str, query: str, mode: str) -> list[Any]:
    answer = client.get("/search", params={"q": query, "mode": mode}, headers=bearer(key))
    assert answer.status_code == 200, answer.text
    found: list[Any] = answer.json()["results"]
    return found


@pytest.mark.parametrize("clearance", ["public", "internal"])
def test_a_hidden_document_changes_nothing_a_reader_gets(
    bare_client: TestClient, settings: Settings, clearance: str
) -> None:
    for name, (level, text) in SEEN.items():
        upload(bare_client, name, text, level)
    key = add_user(settings, "rita", "reader", clearance)
    asked = [(q, mode) for q in QUERIES for mode in ("keyword", "hybrid")]
    before = {case: results(bare_client, key, *case) for case in asked}
    assert before[("observers", "keyword")], "the reader finds what they may see"

    upload(bare_client, "envoy-notes.md", HIDDEN, "confidential")
    upload(bare_client, "envoy-notes-2.md", HIDDEN + "\nA second copy.\n", "restricted")

    for case in asked:
        assert results(bare_client, key, *case) == before[case], case
    # A word only hidden documents hold scores as a word no document holds.
    hidden_word = results(bare_client, key, "observers quillwort", "keyword")
    no_word = results(bare_client, key, "observers zzyzxq", "keyword")
    assert hidden_word == no_word
    # Whoever may see the hidden documents finds them.
    assert "envoy-notes" in [
        r["document_id"]
        for r in bare_client.get("/search", params={"q": "observers", "mode": "keyword"}).json()[
            "results"
        ]
    ]


def test_remarking_a_document_moves_it_between_what_readers_may_see(
    bare_client: TestClient, settings: Settings
) -> None:
    for name, (level, text) in SEEN.items():
        upload(bare_client, name, text, level)
    key = add_user(settings, "rita", "reader", "public")
    before = results(bare_client, key, "observers", "keyword")

    upload(bare_client, "envoy-notes.md", HIDDEN, "confidential")
    opened = bare_client.patch("/documents/envoy-notes", json={"classification": "public"})
    assert opened.status_code == 200, opened.text
    assert "envoy-notes" in [
        r["document_id"] for r in results(bare_client, key, "observers", "keyword")
    ]
    closed = bare_client.patch("/documents/envoy-notes", json={"classification": "confidential"})
    assert closed.status_code == 200, closed.text
    after = results(bare_client, key, "observers", "keyword")
    assert [r["document_id"] for r in after] == [r["document_id"] for r in before]
