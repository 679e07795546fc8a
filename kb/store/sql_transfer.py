"""SQL of `kb migrate`: what is read from an embedded store and how PostgreSQL takes it.

Beside `kb.store.sqlite.sql` and `kb.store.postgres.sql`, which hold each backend's schema.
"""

from __future__ import annotations

# Every table of the store, parents before children, with the columns both schemas share.
# The keyword log is not copied: PostgreSQL's triggers write it as the passages arrive. The
# keyword index (chunks_fts) is computed in PostgreSQL from the copied passages.
TABLES: tuple[tuple[str, str], ...] = (
    ("meta", "key, value"),
    (
        "documents",
        "document_id, title, doc_type, source_name, sha256, metadata, date, created_at, "
        "updated_at, deleted_at, deleted_by, version, simhash, classification, original_sha256, "
        "original_media_type, original_name",
    ),
    ("document_groups", "document_id, group_name"),
    (
        "chunks",
        "chunk_id, document_id, ordinal, text, heading, page_start, page_end, char_start, "
        "char_end, ocr",
    ),
    ("vectors", "chunk_id, vector"),
    (
        "document_versions",
        "document_id, version, title, doc_type, source_name, sha256, metadata, date, chunks, "
        "created_at, replaced_at, original_sha256, original_media_type, original_name, "
        "classification, groups",
    ),
    ("audit", "audit_id, at, actor, action, document_id, before, after, detail"),
    ("relations", "source_id, relation, target_id, created_at"),
    (
        "users",
        "name, role, clearance, groups, key_hash, disabled, created_at, key_created_at",
    ),
    ("tombstones", "document_id, classification, groups, purged_at"),
    ("packs", "pack_id, title, audience, objectives, owner, created_at, updated_at"),
    ("pack_items", "item_id, pack_id, position, document_id, chunk_id, note"),
)
# Ids that are never handed out twice: PostgreSQL's next id continues past SQLite's highest ever
# (sqlite_sequence remembers ids of rows since deleted).
IDENTITIES: tuple[tuple[str, str], ...] = (
    ("chunks", "chunk_id"),
    ("audit", "audit_id"),
    ("packs", "pack_id"),
    ("pack_items", "item_id"),
)

READ_TABLE = "SELECT {columns} FROM {table}"
COUNT_TABLE = "SELECT count(*) FROM {table}"
HIGHEST_EVER = "SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name = ?"

# COPY writes identity columns as given (as INSERT ... OVERRIDING SYSTEM VALUE).
COPY_INTO = "COPY {table} ({columns}) FROM STDIN"
FILL_KEYWORD_INDEX = """
INSERT INTO chunks_fts (rowid, tsv)
SELECT c.chunk_id, kb_tsv(d.title, c.heading, c.text)
FROM chunks c JOIN documents d ON d.document_id = c.document_id
"""
HIGHEST = "SELECT coalesce(max({column}), 0) FROM {table}"
RESTART_IDENTITY = "ALTER TABLE {table} ALTER COLUMN {column} RESTART WITH {start}"
# A database holding any of these is not empty: a migration never mixes two stores.
OCCUPIED = """
SELECT (SELECT count(*) FROM documents) + (SELECT count(*) FROM users)
     + (SELECT count(*) FROM packs) + (SELECT count(*) FROM audit)
"""
