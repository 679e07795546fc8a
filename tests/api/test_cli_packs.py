"""`kb packs`: the JSON shapes relied on outside the repo."""

from __future__ import annotations

from pathlib import Path

from tests.api.corpus import AUREL, DDR
from tests.api.test_cli import ok, ok_json, run, store  # noqa: F401  (the fixture)


def test_create_add_show_list(store: Path) -> None:  # noqa: F811
    created = ok_json(store, "packs", "create", "Ceasefire monitoring", "--audience", "mediators")
    assert isinstance(created["pack_id"], int) and created["items"] == []
    pack_id = str(created["pack_id"])
    ok(store, "packs", "add", pack_id, AUREL, "--note", "the agreement")
    shown = ok_json(store, "packs", "show", pack_id)
    assert [(i["document_id"], i["note"]) for i in shown["items"]] == [(AUREL, "the agreement")]
    assert [p["pack_id"] for p in ok_json(store, "packs", "list")] == [created["pack_id"]]
    assert "the agreement" in ok(store, "packs", "show", pack_id).stdout

    missing = run(store, "packs", "add", pack_id, "no-such-document")
    assert missing.exit_code == 1
    bad_chunk = run(store, "packs", "add", pack_id, DDR, "--chunk", "999999")
    assert bad_chunk.exit_code == 1
