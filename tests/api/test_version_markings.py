"""Each version keeps the marking it was stored with: a document made public by a new version
does not open its confidential first version, nor that version's file, to a public reader."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from kb.settings import Settings
from tests.api.conftest import add_user, bearer
from tests.api.contract import assert_error

pytestmark = pytest.mark.backends

MEMO = "# Reclassification memo\n\nThe envoy's channel to the northern commanders stays open.\n"
MEMO_V2 = "# Reclassification memo\n\nThe talks are public now; the channel is closed.\n"


def upload(client: TestClient, text: str, classification: str) -> None:
    answer = client.post(
        "/documents",
        files=[("file", ("reclass-memo.md", text.encode(), "text/markdown"))],
        data={"classification": classification},
    )
    assert answer.status_code == 201, answer.text


def test_an_earlier_version_keeps_its_marking(bare_client: TestClient, settings: Settings) -> None:
    upload(bare_client, MEMO, "confidential")
    upload(bare_client, MEMO_V2, "public")
    public = bearer(add_user(settings, "pia", "reader", "public"))

    mine = bare_client.get("/documents/reclass-memo/versions").json()["versions"]
    assert [(v["version"], v["classification"]) for v in mine] == [
        (2, "public"),
        (1, "confidential"),
    ]
    assert bare_client.get("/documents/reclass-memo/versions/1").status_code == 200
    assert bare_client.get("/documents/reclass-memo/versions/1/original").status_code == 200

    theirs = bare_client.get("/documents/reclass-memo/versions", headers=public)
    assert [v["version"] for v in theirs.json()["versions"]] == [2]
    hidden = bare_client.get("/documents/reclass-memo/versions/1", headers=public)
    missing = bare_client.get("/documents/reclass-memo/versions/7", headers=public)
    assert_error(hidden, 404)
    assert hidden.json()["message"] == missing.json()["message"].replace("7", "1")
    old_file = bare_client.get("/documents/reclass-memo/versions/1/original", headers=public)
    assert_error(old_file, 404)
    assert bare_client.get("/documents/reclass-memo/original", headers=public).status_code == 200


def test_remarking_the_document_leaves_its_earlier_versions_as_they_were(
    bare_client: TestClient, settings: Settings
) -> None:
    upload(bare_client, MEMO, "restricted")
    upload(bare_client, MEMO_V2, "restricted")
    changed = bare_client.patch("/documents/reclass-memo", json={"classification": "public"})
    assert changed.status_code == 200, changed.text
    public = bearer(add_user(settings, "pia", "reader", "public"))

    versions = bare_client.get("/documents/reclass-memo/versions", headers=public).json()
    assert [v["version"] for v in versions["versions"]] == [2]
    assert_error(bare_client.get("/documents/reclass-memo/versions/1", headers=public), 404)
