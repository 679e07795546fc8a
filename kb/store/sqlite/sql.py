"""The SQLite dialect's schema (its numbered migrations) and the statements it says its own way
(those both dialects say alike are in `kb.store.sql_common`). Beside it, its other statements
modules (`sql_history`, `sql_packs`, ...)."""

from __future__ import annotations

from kb.store.sql_filters import LIVE
from kb.store.sql_users import M010_SESSIONS
from kb.store.sqlite.sql_jobs import M009_JOBS
from kb.store.sqlite.sql_keyword import M008_KEYWORD_LOG, M013_KEYWORD_MARKINGS
from kb.store.sqlite.sql_originals import M006_ORIGINALS, ORIGINAL_COLUMNS
from kb.store.sqlite.sql_packs import M005_PACKS, M007_PACK_ITEMS

# Each migration runs once, in order, inside one transaction; PRAGMA user_version
# records how many have run.
M001_CREATE_TABLES = """
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE documents (
    document_id TEXT PRIMARY KEY,
    title       TEXT NOT NULL,
    doc_type    TEXT NOT NULL,
    source_name TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    metadata    TEXT NOT NULL DEFAULT '{}',
    date        TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX documents_doc_type ON documents (doc_type);
CREATE INDEX documents_date ON documents (date);
CREATE INDEX documents_sha256 ON documents (sha256);
-- AUTOINCREMENT: a chunk_id is never reused, so a stale FAISS cache can never
-- point at somebody else's passage.
CREATE TABLE chunks (
    chunk_id    INTEGER PRIMARY KEY AUTOINCREMENT,
    document_id TEXT NOT NULL REFERENCES documents (document_id) ON DELETE CASCADE,
    ordinal     INTEGER NOT NULL,
    text        TEXT NOT NULL,
    heading     TEXT,
    page_start  INTEGER NOT NULL,
    page_end    INTEGER NOT NULL,
    char_start  INTEGER NOT NULL,
    char_end    INTEGER NOT NULL,
    UNIQUE (document_id, ordinal)
);
CREATE TABLE vectors (
    chunk_id INTEGER PRIMARY KEY REFERENCES chunks (chunk_id) ON DELETE CASCADE,
    vector   BLOB NOT NULL
);
CREATE VIRTUAL TABLE chunks_fts USING fts5 (
    title, heading, text,
    tokenize = 'porter unicode61 remove_diacritics 2'
);
"""

M002_HISTORY = """
ALTER TABLE chunks ADD COLUMN ocr INTEGER NOT NULL DEFAULT 0;
-- A soft-deleted document keeps its rows (restorable) until purged; search skips it.
ALTER TABLE documents ADD COLUMN deleted_at TEXT;
ALTER TABLE documents ADD COLUMN deleted_by TEXT;
ALTER TABLE documents ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
-- 64-bit SimHash of the document's words (stored signed): near-duplicates differ in few bits.
ALTER TABLE documents ADD COLUMN simhash INTEGER;
CREATE INDEX documents_deleted_at ON documents (deleted_at);
-- Earlier versions of a document: fields and passages as JSON, outside every index.
CREATE TABLE document_versions (
    document_id TEXT NOT NULL,
    version     INTEGER NOT NULL,
    title       TEXT NOT NULL,
    doc_type    TEXT NOT NULL,
    source_name TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    metadata    TEXT NOT NULL,
    date        TEXT,
    chunks      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    replaced_at TEXT NOT NULL,
    PRIMARY KEY (document_id, version)
);
CREATE TABLE audit (
    audit_id    INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    document_id TEXT,
    before      TEXT,
    after       TEXT,
    detail      TEXT
);
CREATE INDEX audit_document ON audit (document_id, audit_id);
CREATE TABLE relations (
    source_id  TEXT NOT NULL,
    relation   TEXT NOT NULL,
    target_id  TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (source_id, relation, target_id)
);
CREATE INDEX relations_target ON relations (target_id, relation);
"""

M003_ACCESS = """
-- Classification as a rank into kb.access.LEVELS (public 0 .. confidential 3).
ALTER TABLE documents ADD COLUMN classification INTEGER NOT NULL DEFAULT 1;
CREATE TABLE document_groups (
    document_id TEXT NOT NULL REFERENCES documents (document_id) ON DELETE CASCADE,
    group_name  TEXT NOT NULL,
    PRIMARY KEY (document_id, group_name)
);
CREATE INDEX document_groups_group ON document_groups (group_name);
-- API keys are stored only as SHA-256 hashes (they are long random secrets).
CREATE TABLE users (
    name        TEXT PRIMARY KEY,
    role        TEXT NOT NULL,
    clearance   INTEGER NOT NULL,
    groups      TEXT NOT NULL DEFAULT '[]',
    key_hash    TEXT NOT NULL UNIQUE,
    disabled    INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    key_created_at TEXT NOT NULL
);
"""

M004_TOMBSTONES = """
-- A purged document's marking outlives it, so its audit entries stay hidden from whoever
-- could not see it.
CREATE TABLE tombstones (
    document_id    TEXT PRIMARY KEY,
    classification INTEGER NOT NULL,
    groups         TEXT NOT NULL DEFAULT '[]',
    purged_at      TEXT NOT NULL
);
"""


M011_VERSION_MARKINGS = """
-- Each earlier version keeps the marking it was stored with: reading it needs clearance for that.
ALTER TABLE document_versions ADD COLUMN classification INTEGER NOT NULL DEFAULT 3;
ALTER TABLE document_versions ADD COLUMN groups TEXT NOT NULL DEFAULT '[]';
-- Versions kept before this: the document's marking now, the best that is known of them.
UPDATE document_versions SET
    classification = coalesce((SELECT d.classification FROM documents d
                               WHERE d.document_id = document_versions.document_id), 3),
    groups = (SELECT json_group_array(g.group_name) FROM document_groups g
              WHERE g.document_id = document_versions.document_id);
"""

M012_ID_CASE = """
-- Ids that differ only by case are look-alikes: a new one is refused (kb.look_alikes).
-- lower() folds ASCII letters only, here as in kb.look_alikes and PostgreSQL's "C" collation.
CREATE INDEX documents_id_lower ON documents (lower(document_id));
"""


MIGRATIONS: tuple[str, ...] = (
    M001_CREATE_TABLES,
    M002_HISTORY,
    M003_ACCESS,
    M004_TOMBSTONES,
    M005_PACKS,
    M006_ORIGINALS,
    M007_PACK_ITEMS,
    M008_KEYWORD_LOG,
    M009_JOBS,
    M010_SESSIONS,
    M011_VERSION_MARKINGS,
    M012_ID_CASE,
    M013_KEYWORD_MARKINGS,
)

# Every write transaction starts so: SQLite takes the write lock at once, not at the first write.
BEGIN = "BEGIN IMMEDIATE"

PRAGMAS = (
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = NORMAL",
    "PRAGMA foreign_keys = ON",
    "PRAGMA busy_timeout = 30000",
)
# Searches' connections (kb.store.readers): WAL is a property of the file, set by the writer.
READER_PRAGMAS = ("PRAGMA busy_timeout = 30000", "PRAGMA query_only = ON")


DOCUMENT_COLUMNS = (
    "d.document_id, d.title, d.doc_type, d.source_name, d.sha256, d.metadata, d.date, "
    "d.created_at, d.updated_at, "
    "(SELECT count(*) FROM chunks c WHERE c.document_id = d.document_id) AS chunk_count, "
    "d.version, d.deleted_at, d.deleted_by, d.classification, "
    "(SELECT json_group_array(g.group_name) FROM document_groups g "
    "WHERE g.document_id = d.document_id) AS groups, "
    f"{ORIGINAL_COLUMNS}"
)
GET_DOCUMENT = f"SELECT {DOCUMENT_COLUMNS} FROM documents d WHERE d.document_id = ?"
FINGERPRINTS_BY_ID = (
    "SELECT document_id, sha256, metadata, title, doc_type, date, deleted_at IS NOT NULL, "
    "classification, (SELECT json_group_array(g.group_name) FROM document_groups g "
    "WHERE g.document_id = documents.document_id), version "
    "FROM documents WHERE document_id IN ({marks})"
)
# The unary + keeps SQLite off the deleted_at index: with LIVE as written it walked every live
# document (13 ms warm, 135 ms cold at 166,000 documents) instead of looking up the ten asked for.
DOCUMENTS_BY_ID = (
    f"SELECT {DOCUMENT_COLUMNS} FROM documents d "
    "WHERE +d.deleted_at IS NULL AND d.document_id IN ({marks})"
)
# Stored ids (trashed ones too) equal to any of these but for case; the keys come lower-cased.
CASE_VARIANTS = "SELECT document_id FROM documents WHERE lower(document_id) IN ({marks})"
INSERT_GROUP = "INSERT OR IGNORE INTO document_groups (document_id, group_name) VALUES (?, ?)"

VECTORS_BY_ID = "SELECT chunk_id, vector FROM vectors WHERE chunk_id IN ({marks}) ORDER BY chunk_id"
INSERT_CHUNK = """
INSERT INTO chunks (document_id, ordinal, text, heading, page_start, page_end, char_start, char_end,
                    ocr)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
INSERT_VECTOR = "INSERT INTO vectors (chunk_id, vector) VALUES (?, ?)"
UPDATE_VECTOR = "UPDATE vectors SET vector = ? WHERE chunk_id = ?"
INSERT_FTS = "INSERT INTO chunks_fts (rowid, title, heading, text) VALUES (?, ?, ?, ?)"
UPDATE_FTS_TITLE = "UPDATE chunks_fts SET title = ? WHERE rowid = ?"

ALL_VECTORS = f"""
SELECT v.chunk_id, v.vector FROM vectors v
JOIN chunks c ON c.chunk_id = v.chunk_id JOIN documents d ON d.document_id = c.document_id
WHERE {LIVE} ORDER BY v.chunk_id
"""

LIST_DOCUMENTS = f"""
SELECT {DOCUMENT_COLUMNS} FROM documents d WHERE {{where}}
ORDER BY d.date DESC NULLS LAST, d.document_id LIMIT :limit OFFSET :offset
"""

# Every short text value of every metadata key (lists unrolled), with its document count:
# the vocabulary that query understanding matches against.
METADATA_VALUES = """
SELECT j.key, j.value, count(*) FROM documents d, json_each(d.metadata) j
WHERE {where} AND j.type = 'text' AND length(j.value) <= :longest GROUP BY j.key, j.value
UNION ALL
SELECT j.key, a.value, count(*) FROM documents d, json_each(d.metadata) j, json_each(j.value) a
WHERE {where} AND j.type = 'array' AND a.type = 'text' AND length(a.value) <= :longest
GROUP BY j.key, a.value
"""
# The metadata keys a filter may name (kb.metadata.filter_keys).
METADATA_KEYS = "SELECT DISTINCT j.key FROM documents d, json_each(d.metadata) j WHERE {where}"
