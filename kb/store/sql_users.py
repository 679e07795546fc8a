"""SQL of the accounts: users, their roles, clearances, groups and hashed API keys.

The same in both dialects: SQLite's migration 3 makes the users table (PostgreSQL's first), and
M010_SESSIONS the sessions table (PostgreSQL's migration 4, with its type for a float).
"""

from __future__ import annotations

USER_COLUMNS = "name, role, clearance, groups, disabled, created_at"

INSERT_USER = """
INSERT INTO users (name, role, clearance, groups, key_hash, disabled, created_at, key_created_at)
VALUES (:name, :role, :clearance, :groups, :key_hash, 0, :now, :now)
"""
USER_BY_NAME = f"SELECT {USER_COLUMNS} FROM users WHERE name = ?"
USER_BY_KEY_HASH = f"SELECT {USER_COLUMNS}, key_hash FROM users WHERE key_hash = ?"
ALL_USERS = f"SELECT {USER_COLUMNS} FROM users ORDER BY name"
COUNT_USERS = "SELECT count(*) FROM users"
SET_DISABLED = "UPDATE users SET disabled = ? WHERE name = ?"
SET_KEY = "UPDATE users SET key_hash = ?, key_created_at = ? WHERE name = ?"

M010_SESSIONS = """
-- Web UI sign-ins, in the store so that any server behind a balancer knows them (and a
-- restart signs nobody out): only a hash of each session's token is kept.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    csrf       TEXT NOT NULL,
    expires    REAL NOT NULL  -- seconds since the epoch
);
CREATE INDEX sessions_expires ON sessions (expires);
"""
INSERT_SESSION = "INSERT INTO sessions (token_hash, name, csrf, expires) VALUES (?, ?, ?, ?)"
FIND_SESSION = "SELECT name, csrf, expires FROM sessions WHERE token_hash = ? AND expires > ?"
DELETE_SESSION = "DELETE FROM sessions WHERE token_hash = ?"
DELETE_USER_SESSIONS = "DELETE FROM sessions WHERE name = ?"
DROP_EXPIRED_SESSIONS = "DELETE FROM sessions WHERE expires <= ?"
