"""`kb packs`: the JSON shapes relied on outside the repo."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from api.cli import cli
from tests.api.corpus import AUREL, DDR, DELTA
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


def test_edit_note_move_remove_duplicate_delete(store: Path) -> None:  # noqa: F811
    pack_id = str(ok_json(store, "packs", "create", "Draft", "--objective", "compare")["pack_id"])
    for document_id in (AUREL, DDR, DELTA):
        pack = ok_json(store, "packs", "add", pack_id, document_id)
    first, second, third = (i["item_id"] for i in pack["items"])
    assert pack["items"][0]["title"] == "Aurel Highlands Ceasefire Agreement"

    edited = ok_json(store, "packs", "edit", pack_id, "--title", "Monitoring", "--audience", "new")
    assert (edited["title"], edited["audience"], edited["objectives"]) == (
        "Monitoring",
        "new",
        ["compare"],
    )
    cleared = ok_json(store, "packs", "edit", pack_id, "--clear-objectives")
    assert cleared["objectives"] == [] and cleared["title"] == "Monitoring"
    noted = ok_json(store, "packs", "note", pack_id, str(second), "the evaluation")
    assert [i["note"] for i in noted["items"]] == ["", "the evaluation", ""]
    moved = ok_json(store, "packs", "move", pack_id, str(third), "0")
    assert [i["item_id"] for i in moved["items"]] == [third, first, second]
    left = ok_json(store, "packs", "remove", pack_id, str(first))
    assert [i["document_id"] for i in left["items"]] == [DELTA, DDR]
    text = ok(store, "packs", "show", pack_id).stdout
    assert f"item {second}" in text and "the evaluation" in text

    copy = ok_json(store, "packs", "duplicate", pack_id)
    assert copy["title"] == "Copy of Monitoring" and copy["owner"].startswith("cli:")
    assert [i["note"] for i in copy["items"]] == ["", "the evaluation"]
    named = ok_json(store, "packs", "duplicate", pack_id, "--title", "Term 2")
    assert named["title"] == "Term 2"
    assert ok_json(store, "packs", "delete", pack_id) == {"pack_id": int(pack_id), "deleted": True}
    listed = ok_json(store, "packs", "list")
    assert sorted(p["pack_id"] for p in listed) == sorted([copy["pack_id"], named["pack_id"]])
    assert [p["item_count"] for p in listed] == [2, 2]


def test_pack_changes_refuse_bad_input_and_missing_items(store: Path) -> None:  # noqa: F811
    pack_id = str(ok_json(store, "packs", "create", "Refusals")["pack_id"])
    item = str(ok_json(store, "packs", "add", pack_id, AUREL)["items"][0]["item_id"])
    for args in (
        ("note", pack_id, "999999", "x"),
        ("remove", pack_id, "999999"),
        ("move", pack_id, item, "1"),
        ("edit", pack_id, "--title", "  "),
        ("delete", "999999"),
        ("duplicate", "999999"),
    ):
        result = run(store, "packs", *args)
        assert result.exit_code == 1, (args, result.output)
    nothing = run(store, "packs", "edit", pack_id)
    assert nothing.exit_code == 2 and "nothing to change" in nothing.output
    assert len(ok_json(store, "packs", "show", pack_id)["items"]) == 1


def test_every_packs_command_has_help() -> None:
    for command in ("edit", "delete", "note", "remove", "move", "duplicate"):
        result = CliRunner().invoke(cli, ["packs", command, "--help"])
        assert result.exit_code == 0 and "--json" in result.output, command
        assert "Usage: cli packs" in result.output
