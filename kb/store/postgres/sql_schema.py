"""The PostgreSQL backend's schema: numbered migrations and the table that counts them.

Beside `kb.store.postgres.sql`, which holds the statements the store runs.
"""

from __future__ import annotations

from kb.store.postgres.sql_jobs import M003_JOBS
from kb.store.sql_users import M010_SESSIONS

# The text search configuration keyword search uses: English stemming, accents folded (as
# FTS5's remove_diacritics), created by the first migration.
TEXT_SEARCH = "kb_english"

# Each migration runs once, in order, in one transaction with the bump of schema_version.
# Dates stay ISO-8601 text and metadata JSON text, as in SQLite, so both backends read and
# write the same values; `meta` is that text as jsonb, for the filters.
M001_SCHEMA = f"""
CREATE EXTENSION IF NOT EXISTS vector;
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE TEXT SEARCH CONFIGURATION {TEXT_SEARCH} (COPY = english);
ALTER TEXT SEARCH CONFIGURATION {TEXT_SEARCH}
    ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem;
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
    metadata    TEXT NOT NULL DEFAULT '{{}}',
    meta        JSONB GENERATED ALWAYS AS (metadata::jsonb) STORED,
    date        TEXT COLLATE "C",
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    deleted_at  TEXT,
    deleted_by  TEXT,
    version     INTEGER NOT NULL DEFAULT 1,
    simhash     BIGINT,
    classification INTEGER NOT NULL DEFAULT 1,
    original_sha256     TEXT,
    original_media_type TEXT,
    original_name       TEXT
);
CREATE INDEX documents_doc_type ON documents (doc_type);
CREATE INDEX documents_date ON documents (date);
CREATE INDEX documents_sha256 ON documents (sha256);
CREATE INDEX documents_deleted_at ON documents (deleted_at);
CREATE INDEX documents_original ON documents (original_sha256);
CREATE INDEX documents_meta ON documents USING gin (meta jsonb_path_ops);
-- An identity is never handed out twice, so a stale FAISS cache never points at another passage.
CREATE TABLE chunks (
    chunk_id    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    document_id TEXT NOT NULL REFERENCES documents (document_id) ON DELETE CASCADE,
    ordinal     INTEGER NOT NULL,
    text        TEXT NOT NULL,
    heading     TEXT,
    page_start  INTEGER NOT NULL,
    page_end    INTEGER NOT NULL,
    char_start  INTEGER NOT NULL,
    char_end    INTEGER NOT NULL,
    ocr         INTEGER NOT NULL DEFAULT 0,
    UNIQUE (document_id, ordinal)
);
CREATE TABLE vectors (
    chunk_id BIGINT PRIMARY KEY REFERENCES chunks (chunk_id) ON DELETE CASCADE,
    vector   vector NOT NULL
);
-- The keyword index: one weighted tsvector a passage (title A, heading B, text D), written
-- beside the passage as FTS5's rows are in SQLite.
CREATE TABLE chunks_fts (
    rowid BIGINT PRIMARY KEY REFERENCES chunks (chunk_id) ON DELETE CASCADE,
    tsv   TSVECTOR NOT NULL
);
CREATE INDEX chunks_fts_tsv ON chunks_fts USING gin (tsv);
CREATE FUNCTION kb_tsv(title TEXT, heading TEXT, body TEXT) RETURNS TSVECTOR
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT setweight(to_tsvector('{TEXT_SEARCH}', coalesce(title, '')), 'A')
        || setweight(to_tsvector('{TEXT_SEARCH}', coalesce(heading, '')), 'B')
        || to_tsvector('{TEXT_SEARCH}', body)
$$;
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
    original_sha256     TEXT,
    original_media_type TEXT,
    original_name       TEXT,
    PRIMARY KEY (document_id, version)
);
CREATE INDEX document_versions_original ON document_versions (original_sha256);
CREATE TABLE audit (
    audit_id    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
CREATE TABLE document_groups (
    document_id TEXT NOT NULL REFERENCES documents (document_id) ON DELETE CASCADE,
    group_name  TEXT NOT NULL,
    PRIMARY KEY (document_id, group_name)
);
CREATE INDEX document_groups_group ON document_groups (group_name);
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
CREATE TABLE tombstones (
    document_id    TEXT PRIMARY KEY,
    classification INTEGER NOT NULL,
    groups         TEXT NOT NULL DEFAULT '[]',
    purged_at      TEXT NOT NULL
);
CREATE TABLE packs (
    pack_id    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title      TEXT NOT NULL,
    audience   TEXT NOT NULL DEFAULT '',
    objectives TEXT NOT NULL DEFAULT '[]',
    owner      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE pack_items (
    item_id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pack_id     BIGINT NOT NULL REFERENCES packs (pack_id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    document_id TEXT NOT NULL,
    chunk_id    BIGINT,
    note        TEXT NOT NULL DEFAULT '',
    UNIQUE (pack_id, position)
);
-- What a keyword index cache (kb.keywords.index) must re-read, as SQLite's migration 8 keeps it.
CREATE TABLE keyword_log (
    seq      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    chunk_id BIGINT NOT NULL
);
CREATE FUNCTION kb_log_chunk() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO keyword_log (chunk_id) VALUES (OLD.chunk_id);
    ELSE
        INSERT INTO keyword_log (chunk_id) VALUES (NEW.chunk_id);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER keyword_log_insert AFTER INSERT OR DELETE ON chunks
FOR EACH ROW EXECUTE FUNCTION kb_log_chunk();
CREATE TRIGGER keyword_log_text AFTER UPDATE OF text, heading ON chunks
FOR EACH ROW EXECUTE FUNCTION kb_log_chunk();
CREATE FUNCTION kb_log_document() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO keyword_log (chunk_id)
    SELECT chunk_id FROM chunks WHERE document_id = NEW.document_id ORDER BY chunk_id;
    RETURN NULL;
END $$;
CREATE TRIGGER keyword_log_document AFTER UPDATE OF title, deleted_at ON documents
FOR EACH ROW WHEN (OLD.title IS DISTINCT FROM NEW.title
                   OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at)
EXECUTE FUNCTION kb_log_document();
"""

M002_ORIGINAL_FILES = """
-- The files documents were read from, by SHA-256, in the database so every server can hand
-- them out (each keeps a copy in its local folder once asked).
CREATE TABLE original_files (
    sha256 TEXT PRIMARY KEY,
    bytes  BYTEA NOT NULL
);
"""

# As SQLite's migration 10; REAL is 4 bytes in PostgreSQL, too coarse for seconds since 1970.
M004_SESSIONS = M010_SESSIONS.replace("REAL", "DOUBLE PRECISION")

# As SQLite's migration 12: ASCII letters folded only (the "C" collation), as SQLite's lower().
M006_ID_CASE = """
CREATE INDEX documents_id_lower ON documents (lower(document_id COLLATE "C"));
"""

# As SQLite's migration 11.
M005_VERSION_MARKINGS = """
ALTER TABLE document_versions ADD COLUMN classification INTEGER NOT NULL DEFAULT 3;
ALTER TABLE document_versions ADD COLUMN groups TEXT NOT NULL DEFAULT '[]';
UPDATE document_versions v SET
    classification = coalesce((SELECT d.classification FROM documents d
                               WHERE d.document_id = v.document_id), 3),
    groups = (SELECT coalesce(json_agg(g.group_name ORDER BY g.group_name), '[]')::text
              FROM document_groups g WHERE g.document_id = v.document_id);
"""

# As SQLite's migration 13: a change of marking moves a document's passages between the
# keyword index's parts.
M007_KEYWORD_MARKINGS = """
CREATE FUNCTION kb_log_group() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO keyword_log (chunk_id)
    SELECT chunk_id FROM chunks
    WHERE document_id = (CASE WHEN TG_OP = 'DELETE' THEN OLD.document_id ELSE NEW.document_id END)
    ORDER BY chunk_id;
    RETURN NULL;
END $$;
CREATE TRIGGER keyword_log_classification AFTER UPDATE OF classification ON documents
FOR EACH ROW WHEN (OLD.classification IS DISTINCT FROM NEW.classification)
EXECUTE FUNCTION kb_log_document();
CREATE TRIGGER keyword_log_groups AFTER INSERT OR DELETE ON document_groups
FOR EACH ROW EXECUTE FUNCTION kb_log_group();
"""

MIGRATIONS: tuple[str, ...] = (
    M001_SCHEMA,
    M002_ORIGINAL_FILES,
    M003_JOBS,
    M004_SESSIONS,
    M005_VERSION_MARKINGS,
    M006_ID_CASE,
    M007_KEYWORD_MARKINGS,
)

CREATE_VERSION_TABLE = "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"
SCHEMA_VERSION = "SELECT coalesce(max(version), 0) FROM schema_version"
SET_SCHEMA_VERSION = "INSERT INTO schema_version (version) VALUES (?)"
# Migrations from several processes at once run one after another.
MIGRATION_LOCK = "SELECT pg_advisory_xact_lock(7213001)"
