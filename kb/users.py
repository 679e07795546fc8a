"""Accounts: users with a role, a clearance and need-to-know groups, and their API keys.

A key is a long random secret shown once, when it is made; the store keeps only its SHA-256
hash. A fast hash is enough here (unlike for passwords): 256 random bits cannot be guessed
from their hash, so there is nothing for a slow hash to protect.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kb.access import LEVELS, Viewer, check_groups, check_level, check_role
from kb.errors import InvalidRequestError, NotFoundError, UnauthorizedError
from kb.settings import Settings
from kb.store import sql_users
from kb.store.backends import open_connection
from kb.store.rows import Transaction, utc_now

KEY_PREFIX = "kb_"  # recognisable in logs and by secret scanners
ADMIN_KEY_FILE = "admin.key"
NAME_PATTERN = re.compile(r"[A-Za-z0-9][\w.@-]{0,63}", re.ASCII)
# Longer than any key we make: a bigger "key" is refused before it is hashed.
MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class User:
    name: str
    role: str
    clearance: str
    groups: tuple[str, ...]
    disabled: bool
    created_at: str

    @property
    def viewer(self) -> Viewer:
        return Viewer(self.name, self.role, self.clearance, self.groups)


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def check_name(name: str) -> str:
    if not NAME_PATTERN.fullmatch(name):
        raise InvalidRequestError(
            f"bad user name {name!r}: 1 to 64 of letters, digits, '_', '.', '@', '-', "
            "starting with a letter or digit"
        )
    return name


def user_of(row: Sequence[Any]) -> User:
    name, role, clearance, groups, disabled, created_at = row[:6]
    groups = tuple(json.loads(groups))
    return User(name, role, LEVELS[clearance], groups, bool(disabled), created_at)


class Users:
    """The users of one store, in its database (a connection of its own, safe across threads):
    shared by every server on a PostgreSQL database."""

    def __init__(self, settings: Settings) -> None:
        # The users table comes with the store's migrations: opening runs them if nobody has.
        self._dialect, self._db = open_connection(settings)
        self._lock = threading.RLock()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Users:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _execute(self, query: str, params: Sequence[Any] | dict[str, Any] = ()) -> Any:
        """Callers hold the lock."""
        return self._db.execute(self._dialect.prepare(query), params)

    def _one(self, query: str, params: Sequence[Any]) -> Any:
        with self._lock:
            return self._execute(query, params).fetchone()

    def _run(self, query: str, params: Sequence[Any] | dict[str, Any]) -> int:
        with self._lock:
            return int(self._execute(query, params).rowcount)

    def add(
        self, name: str, role: str, clearance: str = "internal", groups: Sequence[str] = ()
    ) -> tuple[User, str]:
        """A new user and their API key (the only time the key is seen)."""
        check_name(name)
        check_role(role)
        check_level(clearance, "clearance")
        key = new_key()
        params = {
            "name": name,
            "role": role,
            "clearance": LEVELS.index(clearance),
            "groups": json.dumps(list(check_groups(groups)), ensure_ascii=False),
            "key_hash": hash_key(key),
            "now": utc_now(),
        }
        try:
            self._run(sql_users.INSERT_USER, params)
        except self._dialect.integrity_errors as exc:
            raise InvalidRequestError(f"a user named {name!r} already exists") from exc
        return self.get(name), key

    def get(self, name: str) -> User:
        row = self._one(sql_users.USER_BY_NAME, (name,))
        if row is None:
            raise NotFoundError(f"no user named {name!r} (see `kb users list`)")
        return user_of(row)

    def list(self) -> list[User]:
        with self._lock:
            return [user_of(row) for row in self._execute(sql_users.ALL_USERS)]

    def count(self) -> int:
        return int(self._one(sql_users.COUNT_USERS, ())[0])

    def disable(self, name: str) -> User:
        """The user's key stops working at once, and every browser session of theirs ends (a
        later `enable` opens none of them again); the account stays, for the audit log."""
        with Transaction(self._db, self._lock, "BEGIN"):
            if not self._execute(sql_users.SET_DISABLED, (1, name)).rowcount:
                raise NotFoundError(f"no user named {name!r} (see `kb users list`)")
            self._execute(sql_users.DELETE_USER_SESSIONS, (name,))
        return self.get(name)

    def enable(self, name: str) -> User:
        if not self._run(sql_users.SET_DISABLED, (0, name)):
            raise NotFoundError(f"no user named {name!r} (see `kb users list`)")
        return self.get(name)

    def rotate_key(self, name: str) -> str:
        """A new key for the user; the old one stops working at once, and so does every
        browser session opened with it."""
        key = new_key()
        # One transaction (plain BEGIN: both backends' writes), so there is no moment where
        # the key is new and a session opened with the old one still holds.
        with Transaction(self._db, self._lock, "BEGIN"):
            if not self._execute(sql_users.SET_KEY, (hash_key(key), utc_now(), name)).rowcount:
                raise NotFoundError(f"no user named {name!r} (see `kb users list`)")
            self._execute(sql_users.DELETE_USER_SESSIONS, (name,))
        return key

    def authenticate(self, key: str) -> Viewer | None:
        """The viewer a key signs in as; None for a wrong key or a disabled user."""
        if not key.startswith(KEY_PREFIX) or len(key) > MAX_KEY_LENGTH:
            return None
        digest = hash_key(key)
        row = self._one(sql_users.USER_BY_KEY_HASH, (digest,))
        if row is None or not hmac.compare_digest(row[6], digest):
            return None
        user = user_of(row)
        return None if user.disabled else user.viewer

    # -- web UI sessions (api.sessions): only hashes of their tokens are stored --------------

    def open_session(self, token_hash: str, name: str, csrf: str, expires: float) -> None:
        with self._lock:
            self._execute(sql_users.DROP_EXPIRED_SESSIONS, (time.time(),))
            self._execute(sql_users.INSERT_SESSION, (token_hash, name, csrf, expires))

    def find_session(self, token_hash: str) -> tuple[str, str, float] | None:
        """(user name, CSRF token, expiry) of a session still open; None otherwise."""
        row = self._one(sql_users.FIND_SESSION, (token_hash, time.time()))
        return None if row is None else (str(row[0]), str(row[1]), float(row[2]))

    def close_session(self, token_hash: str) -> None:
        self._run(sql_users.DELETE_SESSION, (token_hash,))

    def viewer(self, name: str) -> Viewer:
        """The viewer a local command acts as (`--as NAME`): the user must exist and be enabled."""
        user = self.get(name)
        if user.disabled:
            raise UnauthorizedError(f"user {name!r} is disabled (`kb users enable {name}`)")
        return user.viewer


def bootstrap_admin(users: Users, store: Path) -> str | None:
    """On a store without users, make `admin` (cleared for everything) and write its key to
    STORE/admin.key, readable by the owner only. Returns the key, or None if users exist."""
    if users.count():
        return None
    _, key = users.add("admin", "admin", LEVELS[-1])
    write_secret(store / ADMIN_KEY_FILE, key)
    return key


def write_secret(path: Path, secret: str) -> None:
    """Write `secret` to a new file that only its owner may read or write (mode 0600)."""
    path.unlink(missing_ok=True)  # an old file keeps its mode: start afresh
    # Created 0600 rather than chmod-ed after, so the key is never readable by others.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(secret + "\n")
