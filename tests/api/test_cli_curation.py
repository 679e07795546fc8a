"""`kb edit`, `versions`, `link`, `unlink`, `audit` and `kb trash`, in process."""

from __future__ import annotations

from pathlib import Path

from kb.errors import InvalidRequestError
from tests.api.corpus import AUREL, DDR
from tests.api.test_cli import ok, ok_json, run, store  # noqa: F401  (the fixture)


def test_edit_then_audit_shows_who_changed_what(store: Path) -> None:  # noqa: F811
    edited = ok_json(store, "edit", DDR, "--title", "DDR Review", "--meta", "stage=implementation")
    assert edited["title"] == "DDR Review" and edited["metadata"]["stage"] == "implementation"
    dropped = ok_json(store, "edit", DDR, "--unset", "stage", "--date", "2006")
    assert "stage" not in dropped["metadata"] and dropped["date"] == "2006"

    log = ok_json(store, "audit", "--document", DDR, "--action", "edit")
    assert log["total"] == 2
    assert log["items"][1]["after"] == {"title": "DDR Review", "metadata": edited["metadata"]}
    assert log["items"][0]["actor"].startswith("cli:")
    assert "DDR Review" in ok(store, "audit", "--document", DDR).stdout

    nothing = run(store, "edit", DDR)
    assert nothing.exit_code == 2 and "nothing to change" in nothing.output


def test_delete_lands_in_the_trash_until_restored_or_purged(store: Path) -> None:  # noqa: F811
    assert ok_json(store, "delete", AUREL)["purge_after"]
    listed = ok_json(store, "trash", "list")
    assert [d["document_id"] for d in listed["items"]] == [AUREL]
    assert AUREL in ok(store, "trash", "list").stdout

    assert ok_json(store, "trash", "restore", AUREL) == {"restored": [AUREL]}
    assert ok_json(store, "show", AUREL)["document_id"] == AUREL

    ok(store, "delete", AUREL)
    assert ok_json(store, "trash", "purge", AUREL) == {"purged": [AUREL]}
    assert ok_json(store, "trash", "purge", "--expired") == {"purged": []}
    gone = run(store, "trash", "restore", AUREL)
    assert gone.exit_code == 1
    both = run(store, "trash", "purge", AUREL, "--expired")
    assert both.exit_code == 2 and "DOCUMENT_IDS or --expired" in both.output


def test_links_and_versions(store: Path) -> None:  # noqa: F811
    linked = ok_json(store, "link", DDR, "evaluates", AUREL)
    assert [(r["label"], r["document_id"]) for r in linked["relations"]] == [("evaluates", AUREL)]
    shown = ok_json(store, "show", AUREL)
    assert [(r["label"], r["document_id"]) for r in shown["relations"]] == [("evaluated-by", DDR)]
    assert "evaluated-by" in ok(store, "show", AUREL).stdout
    bad = run(store, "link", DDR, "admires", AUREL)
    assert bad.exit_code == 2 and "admires" in bad.output
    assert ok_json(store, "unlink", DDR, "evaluates", AUREL)["relations"] == []

    versions = ok_json(store, "versions", AUREL)["versions"]
    assert [(v["version"], v["current"]) for v in versions] == [(1, True)]


def test_edit_splits_a_list_field_on_semicolons(store: Path) -> None:  # noqa: F811
    ok(store, "edit", DDR, "--meta", "countries=Marvania; Trevia")
    assert ok_json(store, "show", DDR)["metadata"]["countries"] == ["Marvania", "Trevia"]
    # Repeated, each value is split the same way; blanks between semicolons are dropped.
    ok(store, "edit", DDR, "--meta", "themes=DDR;; reintegration ", "--meta", "themes=women")
    themes = ok_json(store, "show", DDR)["metadata"]["themes"]
    assert themes == ["DDR", "reintegration", "women"]
    # A field the schema does not call a list stays as typed.
    ok(store, "edit", DDR, "--meta", "note=first; second")
    assert ok_json(store, "show", DDR)["metadata"]["note"] == "first; second"


def test_edit_changes_the_marking_as_the_api_and_the_ui_do(store: Path) -> None:  # noqa: F811
    marked = ok_json(store, "edit", DDR, "--classification", "confidential", "--group", "west")
    assert marked["classification"] == "confidential" and marked["groups"] == ["west"]
    log = ok_json(store, "audit", "--document", DDR, "--action", "edit")
    assert log["items"][0]["after"] == {"classification": "confidential", "groups": ["west"]}

    cleared = ok_json(store, "edit", DDR, "--no-groups")
    assert cleared["classification"] == "confidential" and cleared["groups"] == []
    both = run(store, "edit", DDR, "--group", "west", "--no-groups")
    assert both.exit_code == 2 and "not both" in both.output
    bad = run(store, "edit", DDR, "--group", "a,b")  # `kb` prints the core's error, exit 1
    assert isinstance(bad.exception, InvalidRequestError) and "'a,b'" in str(bad.exception)
    assert ok_json(store, "show", DDR)["groups"] == []  # nothing written
