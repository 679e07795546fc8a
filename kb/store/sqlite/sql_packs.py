"""SQL of reading packs. Beside `kb.store.sqlite.sql`, which holds the schema."""

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
PACK_COLUMNS = "pack_id, title, audience, objectives, owner, created_at, updated_at"
GET_PACK = f"SELECT {PACK_COLUMNS} FROM packs WHERE pack_id = ?"
LIST_PACKS = f"SELECT {PACK_COLUMNS} FROM packs ORDER BY updated_at DESC, pack_id DESC"
TOUCH_PACK = "UPDATE packs SET updated_at = ? WHERE pack_id = ?"
DELETE_PACK = "DELETE FROM packs WHERE pack_id = ?"
PACK_ITEMS = (
    "SELECT item_id, position, document_id, chunk_id, note FROM pack_items WHERE pack_id = ? "
    "ORDER BY position"
)
NEXT_POSITION = "SELECT coalesce(max(position), -1) + 1 FROM pack_items WHERE pack_id = ?"
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

ITEM_COLUMNS = "item_id, position, document_id, chunk_id, note"
PACK_ITEMS_OF = f"SELECT pack_id, {ITEM_COLUMNS} FROM pack_items WHERE pack_id IN ({{marks}})"
COUNT_PACKS = "SELECT count(*) FROM packs"
PAGE_OF_PACKS = f"{LIST_PACKS} LIMIT ? OFFSET ?"
UPDATE_PACK = """
UPDATE packs SET title = :title, audience = :audience, objectives = :objectives,
    updated_at = :now
WHERE pack_id = :pack_id
"""
UPDATE_NOTE = "UPDATE pack_items SET note = ? WHERE pack_id = ? AND item_id = ?"
DELETE_ITEM = "DELETE FROM pack_items WHERE pack_id = ? AND item_id = ?"
# Positions are unique within a pack: move every item out of the way (negative) first.
PARK_POSITIONS = "UPDATE pack_items SET position = -1 - position WHERE pack_id = ?"
SET_POSITION = "UPDATE pack_items SET position = ? WHERE pack_id = ? AND item_id = ?"
