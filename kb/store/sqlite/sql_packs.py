"""SQLite's SQL of reading packs: its migrations and the inserts (the rest is in
`kb.store.sql_common`)."""

from __future__ import annotations

M005_PACKS = """
-- Reading packs: an ordered list of documents or passages, each with the trainer's note.
CREATE TABLE packs (
    pack_id    INTEGER PRIMARY KEY AUTOINCREMENT,
    title      TEXT NOT NULL,
    audience   TEXT NOT NULL DEFAULT '',
    objectives TEXT NOT NULL DEFAULT '[]',
    owner      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE pack_items (
    pack_id     INTEGER NOT NULL REFERENCES packs (pack_id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    document_id TEXT NOT NULL,
    chunk_id    INTEGER,
    note        TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (pack_id, position)
);
"""

INSERT_PACK = """
INSERT INTO packs (title, audience, objectives, owner, created_at, updated_at)
VALUES (:title, :audience, :objectives, :owner, :now, :now)
"""
INSERT_ITEM = """
INSERT INTO pack_items (pack_id, position, document_id, chunk_id, note)
VALUES (?, ?, ?, ?, ?)
"""

M007_PACK_ITEMS = """
-- Each item gets a stable id, so a change names the item it means even after a reorder.
-- AUTOINCREMENT: an id is never handed out again, so a stale page cannot hit a newer item.
CREATE TABLE pack_items_new (
    item_id     INTEGER PRIMARY KEY AUTOINCREMENT,
    pack_id     INTEGER NOT NULL REFERENCES packs (pack_id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    document_id TEXT NOT NULL,
    chunk_id    INTEGER,
    note        TEXT NOT NULL DEFAULT '',
    UNIQUE (pack_id, position)
);
INSERT INTO pack_items_new (pack_id, position, document_id, chunk_id, note)
SELECT pack_id, position, document_id, chunk_id, note FROM pack_items ORDER BY pack_id, position;
DROP TABLE pack_items;
ALTER TABLE pack_items_new RENAME TO pack_items;
"""
