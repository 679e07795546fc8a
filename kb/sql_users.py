"""SQL of the accounts: users, their roles, clearances, groups and hashed API keys.

Beside `kb.sql`, which holds the schema (migration M003 creates the table).
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
