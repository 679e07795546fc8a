"""Accounts on a real store: keys shown once and kept only as hashes, rotation, disabling."""

from __future__ import annotations

import hashlib
import sqlite3
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from kb.access import Viewer, check_groups
from kb.errors import InvalidRequestError, NotFoundError, UnauthorizedError
from kb.settings import Settings
from kb.users import ADMIN_KEY_FILE, KEY_PREFIX, Users, bootstrap_admin

pytestmark = pytest.mark.backends


@pytest.fixture
def users(settings: Settings) -> Iterator[Users]:
    with Users(settings) as accounts:
        yield accounts


def stored_rows(settings: Settings) -> list[tuple[object, ...]]:
    if settings.database_url:
        with psycopg.connect(settings.database_url) as pg:
            return [tuple(row) for row in pg.execute("SELECT * FROM users").fetchall()]
    with sqlite3.connect(settings.store / "kb.sqlite") as db:
        return db.execute("SELECT * FROM users").fetchall()


def test_a_key_signs_in_as_its_user_and_is_stored_only_as_its_hash(
    users: Users, settings: Settings
) -> None:
    user, key = users.add("amina", "reader", "restricted", ["horn-team", "horn-team", "legal"])

    assert key.startswith(KEY_PREFIX) and len(key) > 40
    assert (user.name, user.role, user.clearance) == ("amina", "reader", "restricted")
    assert user.groups == ("horn-team", "legal") and not user.disabled
    assert users.authenticate(key) == Viewer(
        "amina", "reader", "restricted", ("horn-team", "legal")
    )
    rows = stored_rows(settings)
    assert len(rows) == 1
    assert not any(key in str(value) for value in rows[0])
    assert hashlib.sha256(key.encode()).hexdigest() in rows[0]


def test_each_user_gets_a_different_key(users: Users) -> None:
    keys = {users.add(f"user-{n}", "reader")[1] for n in range(5)}
    assert len(keys) == 5


@pytest.mark.parametrize(
    "wrong", ["", "kb_", "kb_" + "x" * 43, "not-a-key", "kb_" + "a" * 5000, "Bearer kb_x"]
)
def test_wrong_keys_sign_in_as_nobody(users: Users, wrong: str) -> None:
    users.add("amina", "reader")
    assert users.authenticate(wrong) is None


def test_rotating_a_key_stops_the_old_one_at_once(users: Users) -> None:
    _, old = users.add("amina", "evaluator")
    new = users.rotate_key("amina")
    assert new != old
    assert users.authenticate(old) is None
    assert users.authenticate(new) is not None


def test_rotating_a_key_ends_that_users_sessions_and_no_one_elses(users: Users) -> None:
    users.add("amina", "evaluator")
    users.add("omar", "reader")
    far = time.time() + 3600
    users.open_session("amina-laptop", "amina", "csrf-1", far)
    users.open_session("amina-phone", "amina", "csrf-2", far)
    users.open_session("omar-laptop", "omar", "csrf-3", far)

    users.rotate_key("amina")
    assert users.find_session("amina-laptop") is None
    assert users.find_session("amina-phone") is None
    assert users.find_session("omar-laptop") == ("omar", "csrf-3", far)
    # A failed rotation changes nothing.
    with pytest.raises(NotFoundError):
        users.rotate_key("ghost")
    assert users.find_session("omar-laptop") is not None


def test_a_disabled_user_cannot_sign_in_until_enabled(users: Users) -> None:
    _, key = users.add("amina", "evaluator")
    assert users.disable("amina").disabled
    assert users.authenticate(key) is None
    with pytest.raises(UnauthorizedError, match="disabled"):
        users.viewer("amina")
    users.enable("amina")
    assert users.authenticate(key) == users.viewer("amina")


def test_unknown_users_are_not_found(users: Users) -> None:
    for act in (users.disable, users.enable, users.rotate_key, users.viewer, users.get):
        with pytest.raises(NotFoundError, match="no user named 'ghost'"):
            act("ghost")


@pytest.mark.parametrize(
    ("name", "role", "clearance", "groups", "says"),
    [
        ("", "reader", "internal", (), "bad user name"),
        ("-dash", "reader", "internal", (), "bad user name"),
        ("has space", "reader", "internal", (), "bad user name"),
        ("x" * 65, "reader", "internal", (), "bad user name"),
        ("amina", "god", "internal", (), "role must be one of"),
        ("amina", "reader", "secret", (), "clearance must be one of"),
        ("amina", "reader", "internal", ("bad\ngroup",), "bad group name"),
    ],
)
def test_bad_accounts_are_refused_saying_why(
    users: Users, name: str, role: str, clearance: str, groups: tuple[str, ...], says: str
) -> None:
    with pytest.raises(InvalidRequestError, match=says):
        users.add(name, role, clearance, groups)
    assert users.list() == []


def test_a_name_is_taken_once(users: Users) -> None:
    users.add("amina", "reader")
    with pytest.raises(InvalidRequestError, match="already exists"):
        users.add("amina", "admin", "confidential")
    assert [(u.name, u.role) for u in users.list()] == [("amina", "reader")]


def test_the_first_admin_key_goes_to_a_file_only_its_owner_can_read(
    users: Users, settings: Settings
) -> None:
    key = bootstrap_admin(users, settings.store)

    assert key is not None
    key_file = settings.store / ADMIN_KEY_FILE
    assert key_file.read_text().strip() == key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert users.authenticate(key) == Viewer("admin", "admin", "confidential")
    # Once there are users, nothing more is made and the file is left alone.
    assert bootstrap_admin(users, settings.store) is None
    assert key_file.read_text().strip() == key
    assert len(users.list()) == 1


def test_users_open_a_store_no_knowledge_base_has_opened_yet(tmp_path: Path) -> None:
    settings = Settings(store=tmp_path / "fresh")
    with Users(settings) as users:
        assert users.count() == 0
        users.add("amina", "reader")
    with Users(settings) as users:
        assert [u.name for u in users.list()] == ["amina"]


def test_disabling_a_user_ends_their_sessions_for_good(users: Users) -> None:
    users.add("amina", "evaluator")
    users.add("omar", "reader")
    far = time.time() + 3600
    users.open_session("amina-laptop", "amina", "csrf-1", far)
    users.open_session("omar-laptop", "omar", "csrf-3", far)

    users.disable("amina")
    users.enable("amina")  # a stolen cookie must not come back with the account

    assert users.find_session("amina-laptop") is None
    assert users.find_session("omar-laptop") == ("omar", "csrf-3", far)
    with pytest.raises(NotFoundError):
        users.disable("ghost")


def test_a_group_name_with_a_comma_is_refused() -> None:
    assert check_groups(["sahel", " west "]) == ("sahel", "west")
    with pytest.raises(InvalidRequestError, match="no commas"):
        check_groups(["Sahel, West"])
