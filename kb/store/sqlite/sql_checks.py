"""SQLite's own SQL of `kb check` and `kb backup` (the invariant checks both dialects run are
in `kb.store.sql_common`)."""

from __future__ import annotations

# Each is one statement, so it reads one snapshot and never sees a write half done.
QUICK_CHECK = "PRAGMA quick_check"
USER_VERSION = "PRAGMA user_version"
TABLE_NAMES = "SELECT name FROM sqlite_master WHERE type = 'table'"
VECTORS_OF_WRONG_SIZE = (
    "SELECT chunk_id FROM vectors WHERE length(vector) != :bytes ORDER BY chunk_id"
)
ALL_META = "SELECT key, value FROM meta"
