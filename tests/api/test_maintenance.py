"""`kb check`, `kb backup` and `kb restore` through the command line."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from click.testing import Result

from kb.errors import InvalidRequestError
from kb.store.sqlite.dialect import DATABASE_NAME
from tests.api.test_cli import ok, ok_json, run, store  # noqa: F401  (the fixture)


def test_check_passes_a_sound_store_and_names_each_problem(store: Path) -> None:  # noqa: F811
    sound = ok_json(store, "check")
    assert sound["ok"] is True and sound["problems"] == []
    assert sound["documents"] == 5 and sound["chunks"] == sound["index_vectors"] > 0
    assert "all in agreement" in ok(store, "check").stdout

    with sqlite3.connect(store / DATABASE_NAME) as db:  # damage it behind the store's back
        db.execute("DELETE FROM chunks_fts WHERE rowid = (SELECT min(chunk_id) FROM chunks)")
        db.execute("DELETE FROM vectors WHERE chunk_id = (SELECT max(chunk_id) FROM chunks)")
    damaged = run(store, "check")
    assert damaged.exit_code == 1
    problems = damaged.stderr
    assert "1 passages missing from the keyword index" in problems
    assert "1 passages without a vector" in problems
    assert "1 stored vectors missing from the index" not in problems  # the index follows SQLite


def refused(result: Result, reason: str) -> bool:
    """The command failed with a core error saying `reason` (main() prints it as one line)."""
    error = result.exception
    return result.exit_code == 1 and isinstance(error, InvalidRequestError) and reason in str(error)


def test_backup_and_restore_round_trip(store: Path, tmp_path: Path) -> None:  # noqa: F811
    backup = tmp_path / "backup"
    made = ok_json(store, "backup", str(backup))
    assert made["documents"] == 5 and made["destination"] == str(backup.resolve())
    assert refused(run(store, "backup", str(backup)), "already holds a store; pass --force")

    restored = tmp_path / "restored"
    assert ok_json(restored, "restore", str(backup))["documents"] == 5
    query = ("search", "ceasefire monitoring", "--limit", "3")
    assert ok_json(restored, *query) == ok_json(store, *query)

    assert refused(run(restored, "restore", str(backup)), "holds 5 documents; pass --force")
    assert ok_json(restored, "restore", str(backup / DATABASE_NAME), "--force")["documents"] == 5

    readme = tmp_path / "README.md"
    readme.write_text("# not a store")
    assert refused(run(tmp_path / "fresh", "restore", str(readme)), "is not a Precedent store")
