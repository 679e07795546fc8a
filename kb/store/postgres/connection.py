"""psycopg connections, and the neutral placeholders in psycopg's style.

The store's statements name their parameters in one neutral style (`?`, `:name`, SQLite's);
psycopg wants `%s` and `%(name)s`, and a literal `%` doubled. `to_psycopg` rewrites them, once
per statement (cached): it is the PostgreSQL dialect's `prepare`, so both dialects share every
statement that is the same SQL in both. The connection runs statements as psycopg takes them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import psycopg
from psycopg import errors

from kb.errors import StoreBusyError, StoreError

# A string literal, a cast (::), a named parameter, a positional one, or a percent sign.
_TOKEN = re.compile(r"'(?:[^']|'')*'|::|:([A-Za-z_]\w*)|\?|%")

# Errors that a retry of the whole write would get past: the API answers 503 with Retry-After.
_BUSY = (errors.SerializationFailure, errors.DeadlockDetected, errors.LockNotAvailable)


@lru_cache(maxsize=1024)
def to_psycopg(statement: str) -> str:
    """The statement with psycopg's placeholders (string literals left as they are, but for
    their percent signs)."""

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token.startswith("'"):
            return token.replace("%", "%%")
        if token == "::":
            return token
        if match.group(1) is not None:
            return f"%({match.group(1)})s"
        return "%s" if token == "?" else "%%"

    return _TOKEN.sub(replace, statement)


class PostgresConnection:
    """One connection in autocommit mode: transactions are explicit (BEGIN ... COMMIT), as the
    store runs them. Statements come prepared (`to_psycopg`); a busy database raises
    StoreBusyError."""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            self._db = psycopg.connect(url, autocommit=True)
        except psycopg.Error as exc:
            raise StoreError(f"cannot connect to the database at {redact(url)}: {exc}") from exc

    def execute(self, statement: str, params: Any = ()) -> psycopg.Cursor[Any]:
        """Run one statement; with `params` None, a script of several, taken as written."""
        try:
            if params is None:
                return self._db.execute(statement.encode())
            return self._db.execute(statement, params)
        except _BUSY as exc:
            raise StoreBusyError(f"the database is busy ({exc}); try again") from exc

    def executemany(self, statement: str, params: Iterable[Any]) -> psycopg.Cursor[Any]:
        cursor = self._db.cursor()
        try:
            cursor.executemany(statement, list(params))
        except _BUSY as exc:
            raise StoreBusyError(f"the database is busy ({exc}); try again") from exc
        return cursor

    def close(self) -> None:
        self._db.close()


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)
