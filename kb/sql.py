"""All of the SQLite backend's SQL: named constants, numbered migrations, the filter builder."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kb import relations
from kb.access import LEVELS, Viewer
from kb.models import Filters
from kb.sql_jobs import M009_JOBS
from kb.sql_keyword import M008_KEYWORD_LOG
from kb.sql_originals import M006_ORIGINALS, ORIGINAL_COLUMNS
from kb.sql_packs import M005_PACKS, M007_PACK_ITEMS
from kb.sql_users import M010_SESSIONS

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
)

# Every write transaction starts so: SQLite takes the write lock at once, not at the first write.
BEGIN = "BEGIN IMMEDIATE"

PRAGMAS = (
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = NORMAL",
    "PRAGMA foreign_keys = ON",
    "PRAGMA busy_timeout = 30000",
)
# Searches' connections (kb.sqlite_readers): WAL is a property of the file, set by the writer.
READER_PRAGMAS = ("PRAGMA busy_timeout = 30000", "PRAGMA query_only = ON")

GET_META = "SELECT value FROM meta WHERE key = ?"
SET_META = (
    "INSERT INTO meta (key, value) VALUES (?, ?) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)

DOCUMENT_COLUMNS = (
    "d.document_id, d.title, d.doc_type, d.source_name, d.sha256, d.metadata, d.date, "
    "d.created_at, d.updated_at, "
    "(SELECT count(*) FROM chunks c WHERE c.document_id = d.document_id) AS chunk_count, "
    "d.version, d.deleted_at, d.deleted_by, d.classification, "
    "(SELECT json_group_array(g.group_name) FROM document_groups g "
    "WHERE g.document_id = d.document_id) AS groups, "
    f"{ORIGINAL_COLUMNS}"
)
# Soft-deleted documents keep their rows until purged; everything that reads for search,
# listing or counting sees live documents only.
LIVE = "d.deleted_at IS NULL"
GET_DOCUMENT = f"SELECT {DOCUMENT_COLUMNS} FROM documents d WHERE d.document_id = ?"
# Lookups by many keys at once: {marks} becomes one "?" per key, at most MAX_KEYS_PER_QUERY.
MAX_KEYS_PER_QUERY = 500
FINGERPRINTS_BY_ID = (
    "SELECT document_id, sha256, metadata, title, doc_type, date, deleted_at IS NOT NULL, "
    "classification, (SELECT json_group_array(g.group_name) FROM document_groups g "
    "WHERE g.document_id = documents.document_id) "
    "FROM documents WHERE document_id IN ({marks})"
)
# The unary + keeps SQLite off the deleted_at index: with LIVE as written it walked every live
# document (13 ms warm, 135 ms cold at 166,000 documents) instead of looking up the ten asked for.
DOCUMENTS_BY_ID = (
    f"SELECT {DOCUMENT_COLUMNS} FROM documents d "
    "WHERE +d.deleted_at IS NULL AND d.document_id IN ({marks})"
)
UPSERT_DOCUMENT = """
INSERT INTO documents (document_id, title, doc_type, source_name, sha256, metadata, date,
                       created_at, updated_at, simhash, classification, original_sha256,
                       original_media_type, original_name)
VALUES (:document_id, :title, :doc_type, :source_name, :sha256, :metadata, :date, :now, :now,
        :simhash, :classification, :original_sha256, :original_media_type, :original_name)
ON CONFLICT (document_id) DO UPDATE SET
    title = excluded.title, doc_type = excluded.doc_type, source_name = excluded.source_name,
    sha256 = excluded.sha256, metadata = excluded.metadata, date = excluded.date,
    updated_at = excluded.updated_at, simhash = excluded.simhash,
    classification = excluded.classification, original_sha256 = excluded.original_sha256,
    original_media_type = excluded.original_media_type, original_name = excluded.original_name,
    version = documents.version + 1, deleted_at = NULL, deleted_by = NULL
"""
UPDATE_DOCUMENT_FIELDS = """
UPDATE documents SET title = :title, doc_type = :doc_type, metadata = :metadata, date = :date,
    source_name = :source_name, updated_at = :now, classification = :classification
WHERE document_id = :document_id
"""
DELETE_DOCUMENT = "DELETE FROM documents WHERE document_id = ?"
DELETE_GROUPS = "DELETE FROM document_groups WHERE document_id = ?"
INSERT_GROUP = "INSERT OR IGNORE INTO document_groups (document_id, group_name) VALUES (?, ?)"

CHUNK_COLUMNS = (
    "c.chunk_id, c.document_id, c.ordinal, c.text, c.heading, c.page_start, c.page_end, "
    "c.char_start, c.char_end, c.ocr"
)
CHUNKS_BY_ID = f"SELECT {CHUNK_COLUMNS} FROM chunks c WHERE c.chunk_id IN ({{marks}})"
CHUNK_OWNERS = "SELECT chunk_id, document_id FROM chunks WHERE chunk_id IN ({marks})"
VECTORS_BY_ID = "SELECT chunk_id, vector FROM vectors WHERE chunk_id IN ({marks}) ORDER BY chunk_id"
CHUNK_IDS_OF_DOCUMENT = "SELECT chunk_id FROM chunks WHERE document_id = ? ORDER BY ordinal"
CHUNKS_OF_DOCUMENT = (
    f"SELECT {CHUNK_COLUMNS} FROM chunks c WHERE c.document_id = ? ORDER BY c.ordinal"
)
INSERT_CHUNK = """
INSERT INTO chunks (document_id, ordinal, text, heading, page_start, page_end, char_start, char_end,
                    ocr)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
INSERT_VECTOR = "INSERT INTO vectors (chunk_id, vector) VALUES (?, ?)"
UPDATE_VECTOR = "UPDATE vectors SET vector = ? WHERE chunk_id = ?"
INSERT_FTS = "INSERT INTO chunks_fts (rowid, title, heading, text) VALUES (?, ?, ?, ?)"
DELETE_FTS = "DELETE FROM chunks_fts WHERE rowid = ?"
UPDATE_FTS_TITLE = "UPDATE chunks_fts SET title = ? WHERE rowid = ?"
# Vectors and chunks go by ON DELETE CASCADE; FTS5 tables know no foreign keys.
DELETE_CHUNKS_OF_DOCUMENT = "DELETE FROM chunks WHERE document_id = ?"

ALL_VECTORS = f"""
SELECT v.chunk_id, v.vector FROM vectors v
JOIN chunks c ON c.chunk_id = v.chunk_id JOIN documents d ON d.document_id = c.document_id
WHERE {LIVE} ORDER BY v.chunk_id
"""
ALL_CHUNK_TEXTS = "SELECT chunk_id, text FROM chunks ORDER BY chunk_id"
COUNT_DOCUMENTS = f"SELECT count(*) FROM documents d WHERE {LIVE}"
COUNT_CHUNKS = (
    f"SELECT count(*) FROM chunks c JOIN documents d ON d.document_id = c.document_id WHERE {LIVE}"
)
COUNT_BY_TYPE = (
    f"SELECT doc_type, count(*) FROM documents d WHERE {LIVE} GROUP BY doc_type ORDER BY doc_type"
)

FILTERED_CHUNK_IDS = """
SELECT c.chunk_id FROM chunks c JOIN documents d ON d.document_id = c.document_id
WHERE {where}
"""
LIST_DOCUMENTS = f"""
SELECT {DOCUMENT_COLUMNS} FROM documents d WHERE {{where}}
ORDER BY d.date DESC NULLS LAST, d.document_id LIMIT :limit OFFSET :offset
"""
COUNT_FILTERED_DOCUMENTS = "SELECT count(*) FROM documents d WHERE {where}"

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
# Counts of what a viewer may see.
COUNT_FILTERED_CHUNKS = (
    "SELECT count(*) FROM chunks c JOIN documents d ON d.document_id = c.document_id WHERE {where}"
)
COUNT_FILTERED_BY_TYPE = (
    "SELECT d.doc_type, count(*) FROM documents d WHERE {where} GROUP BY d.doc_type "
    "ORDER BY d.doc_type"
)

PARAM_PREFIX = "f"
# SQLite's lower() folds ASCII only; filters compare with Python's casefold, registered
# on every connection under this name.
FOLD_FUNCTION = "kb_fold"


def fold(text: str | None) -> str | None:
    return None if text is None else text.casefold()


Bind = Callable[[Any], str]  # a value -> the name of the parameter that carries it


@dataclass(frozen=True)
class FilterDialect:
    """What a backend's SQL says its own way in a filter: "true", a metadata value equal to
    one of several (a value may be one scalar or a list of them), a metadata value in a range."""

    true: str
    equals: Callable[[str, tuple[str, ...], Bind], str]
    in_range: Callable[[str, str, str, Bind], str]


def sqlite_equals(key: str, values: tuple[str, ...], bind: Bind) -> str:
    # json_each over a scalar yields the scalar itself, so one clause serves
    # single values and lists (parties, countries) alike.
    # JSON true/false come back from json_each as 1/0, so they are compared by type.
    names = ", ".join(bind(fold(v)) for v in values)
    return (
        f"EXISTS (SELECT 1 FROM json_each(d.metadata, {bind(json_path(key))}) j "
        f"WHERE (CASE WHEN j.type IN ('true', 'false') THEN j.type "
        f"ELSE {FOLD_FUNCTION}(CAST(j.value AS TEXT)) END) IN ({names}))"
    )


def sqlite_in_range(key: str, op: str, bound: str, bind: Bind) -> str:
    return range_clause(f"json_extract(d.metadata, {bind(json_path(key))})", op, bound, bind)


SQLITE_FILTERS = FilterDialect("1", sqlite_equals, sqlite_in_range)


def build_where(
    filters: Filters, live: bool | None = True, dialect: FilterDialect = SQLITE_FILTERS
) -> tuple[str, dict[str, Any]]:
    """Turn filters into a WHERE clause over `documents d`, with named parameters: live
    documents (False: those in the trash; None: both), that the filters' viewer may see,
    meeting the filters."""
    true = dialect.true
    clauses: list[str] = {True: [LIVE], False: ["d.deleted_at IS NOT NULL"], None: [true]}[live]
    params: dict[str, Any] = {}

    def bind(value: Any) -> str:
        name = f"{PARAM_PREFIX}{len(params)}"
        params[name] = value
        return f":{name}"

    viewer = filters.viewer
    seen = true if viewer is None else visibility_clause("d", viewer, bind)
    clauses.append(seen)

    if filters.doc_types:
        names = ", ".join(bind(t) for t in filters.doc_types)
        clauses.append(f"d.doc_type IN ({names})")
    for key, values in filters.equals.items():
        if key == "classification":  # the marking is a column (a rank), not metadata
            ranks = ", ".join(bind(LEVELS.index(v)) for v in values)
            clauses.append(f"d.classification IN ({ranks})")
            continue
        clauses.append(dialect.equals(key, values, bind))
    for key, (low, high) in filters.ranges.items():
        if low is not None:
            clauses.append(dialect.in_range(key, ">=", low, bind))
        if high is not None:
            clauses.append(dialect.in_range(key, "<=", high, bind))
    if filters.date_from:
        clauses.append(f"d.date >= {bind(filters.date_from)}")
    if filters.date_to:
        # A prefix bound: date_to=2019 keeps every date in 2019.
        clauses.append(f"d.date <= {bind(filters.date_to + chr(0x10FFFF))}")
    for label, ids in filters.related.items():
        # The other end must be a live document the viewer sees: a link filter naming a hidden
        # document finds nothing, exactly as one naming a missing document.
        other = true if viewer is None else visibility_clause("o", viewer, bind)
        clauses.append(relation_clause(label, [bind(i) for i in ids], bind, other))
    return " AND ".join(clauses), params


def range_clause(column: str, op: str, bound: str, bind: Any) -> str:
    try:
        number = float(bound)
    except ValueError:
        return f"{column} {op} {bind(bound)}"
    return f"CAST({column} AS REAL) {op} {bind(number)}"


def json_path(key: str) -> str:
    # Keys hold no double quote (checked where filters are parsed), so quoting is safe.
    return '$."' + key + '"'


def visibility_clause(alias: str, viewer: Viewer, bind: Any) -> str:
    """The visibility rule of kb.access.may_see over documents `alias`, in SQL."""
    mine = ", ".join(bind(g) for g in viewer.groups) or "NULL"
    groups = f"SELECT 1 FROM document_groups g WHERE g.document_id = {alias}.document_id"
    return (
        f"({alias}.classification <= {bind(viewer.rank)} AND (NOT EXISTS ({groups}) "
        f"OR EXISTS ({groups} AND g.group_name IN ({mine}))))"
    )


def relation_clause(label: str, ids: list[str], bind: Any, other: str = "1") -> str:
    """Documents linked to any of `ids` as `label` says: a relation type (outgoing), its
    inverse label (incoming), or `related_to` (either way, any type); the document at the other
    end must be live and meet `other` (a clause over `documents o`)."""
    names = ", ".join(ids)
    end = (
        "EXISTS (SELECT 1 FROM documents o WHERE o.document_id = r.{} "
        f"AND o.deleted_at IS NULL AND {other})"
    )
    outgoing = (
        "SELECT 1 FROM relations r WHERE r.source_id = d.document_id AND r.target_id IN ({}) "
        f"AND {end.format('target_id')}"
    )
    incoming = (
        "SELECT 1 FROM relations r WHERE r.target_id = d.document_id AND r.source_id IN ({}) "
        f"AND {end.format('source_id')}"
    )
    if label == relations.ANY_RELATION:
        return f"(EXISTS ({outgoing.format(names)}) OR EXISTS ({incoming.format(names)}))"
    parts = []
    forward, backward = relations.outgoing_type(label), relations.incoming_type(label)
    if forward is not None:
        parts.append(f"EXISTS ({outgoing.format(names)} AND r.relation = {bind(forward)})")
    if backward is not None:
        parts.append(f"EXISTS ({incoming.format(names)} AND r.relation = {bind(backward)})")
    return "(" + " OR ".join(parts) + ")"
