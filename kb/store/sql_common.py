"""The statements both dialects run as written: each dialect's own statements are in its leaf
(`kb.store.sqlite`, `kb.store.postgres`), declared by `kb.store.dialect`.

Placeholders are the store's neutral style (`?`, `:name`); each dialect's `prepare` turns them
into what its driver takes. `{where}` is a dialect's filter clause over `documents d`;
`{marks}` one placeholder per key, at most MAX_KEYS_PER_QUERY.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kb.store.sql_filters import LIVE

# The meta key of the generation: every write bumps it (kb.store.dialect.Dialect.bump_generation).
GENERATION_KEY = "generation"

# -- documents, passages, vectors, meta ------------------------------------------------

GET_META = "SELECT value FROM meta WHERE key = ?"

SET_META = (
    "INSERT INTO meta (key, value) VALUES (?, ?) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)

# Lookups by many keys at once: {marks} becomes one "?" per key, at most MAX_KEYS_PER_QUERY.
MAX_KEYS_PER_QUERY = 500

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

GROUPS_OF = "SELECT group_name FROM document_groups WHERE document_id = ?"

DELETE_GROUP = "DELETE FROM document_groups WHERE document_id = ? AND group_name = ?"

CHUNK_COLUMNS = (
    "c.chunk_id, c.document_id, c.ordinal, c.text, c.heading, c.page_start, c.page_end, "
    "c.char_start, c.char_end, c.ocr"
)

CHUNKS_BY_ID = f"SELECT {CHUNK_COLUMNS} FROM chunks c WHERE c.chunk_id IN ({{marks}})"

CHUNK_OWNERS = "SELECT chunk_id, document_id FROM chunks WHERE chunk_id IN ({marks})"

CHUNK_IDS_OF_DOCUMENT = "SELECT chunk_id FROM chunks WHERE document_id = ? ORDER BY ordinal"

CHUNKS_OF_DOCUMENT = (
    f"SELECT {CHUNK_COLUMNS} FROM chunks c WHERE c.document_id = ? ORDER BY c.ordinal"
)

# Vectors and chunks go by ON DELETE CASCADE; FTS5 tables know no foreign keys.
DELETE_CHUNKS_OF_DOCUMENT = "DELETE FROM chunks WHERE document_id = ?"

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

COUNT_FILTERED_DOCUMENTS = "SELECT count(*) FROM documents d WHERE {where}"

# Counts of what a viewer may see.
COUNT_FILTERED_CHUNKS = (
    "SELECT count(*) FROM chunks c JOIN documents d ON d.document_id = c.document_id WHERE {where}"
)

COUNT_FILTERED_BY_TYPE = (
    "SELECT d.doc_type, count(*) FROM documents d WHERE {where} GROUP BY d.doc_type "
    "ORDER BY d.doc_type"
)

DELETE_FTS = "DELETE FROM chunks_fts WHERE rowid = ?"

ALL_CHUNK_TEXTS = "SELECT chunk_id, text FROM chunks ORDER BY chunk_id"


# -- checks (`kb check`, `kb backup`): each finds the keys that break one invariant ---------

DOCUMENTS_WITHOUT_CHUNKS = """
SELECT d.document_id FROM documents d
WHERE NOT EXISTS (SELECT 1 FROM chunks c WHERE c.document_id = d.document_id)
ORDER BY d.document_id
"""

# A whole document has passages 0..n-1; a gap means a document was written in part.
DOCUMENTS_WITH_ORDINAL_GAPS = """
SELECT document_id FROM chunks GROUP BY document_id
HAVING min(ordinal) != 0 OR max(ordinal) != count(*) - 1 ORDER BY document_id
"""

CHUNKS_WITHOUT_VECTORS = """
SELECT c.chunk_id FROM chunks c
WHERE NOT EXISTS (SELECT 1 FROM vectors v WHERE v.chunk_id = c.chunk_id) ORDER BY c.chunk_id
"""

VECTORS_WITHOUT_CHUNKS = """
SELECT v.chunk_id FROM vectors v
WHERE NOT EXISTS (SELECT 1 FROM chunks c WHERE c.chunk_id = v.chunk_id) ORDER BY v.chunk_id
"""

CHUNKS_WITHOUT_FTS = """
SELECT c.chunk_id FROM chunks c
WHERE NOT EXISTS (SELECT 1 FROM chunks_fts f WHERE f.rowid = c.chunk_id) ORDER BY c.chunk_id
"""

FTS_WITHOUT_CHUNKS = """
SELECT f.rowid FROM chunks_fts f
WHERE NOT EXISTS (SELECT 1 FROM chunks c WHERE c.chunk_id = f.rowid) ORDER BY f.rowid
"""

VECTOR_IDS = f"""
SELECT v.chunk_id FROM vectors v
JOIN chunks c ON c.chunk_id = v.chunk_id JOIN documents d ON d.document_id = c.document_id
WHERE {LIVE} ORDER BY v.chunk_id
"""

# -- the keyword index cache's catch-up (kb.keywords.index) -------------------------------

# The keyword index cache's catch-up (kb.keywords.index): the log's span, the passages changed
# within a part of it, and what the index holds of a passage: live ones only, as FAISS.
KEYWORD_LOG_END = "SELECT coalesce(max(seq), 0) FROM keyword_log"

KEYWORD_LOG_START = "SELECT coalesce(min(seq), 0) FROM keyword_log"

KEYWORD_LOG_SINCE = """
SELECT DISTINCT chunk_id FROM keyword_log WHERE seq > :since AND seq <= :until
"""

# -- original files ------------------------------------------------------------------------

# Every hash a document or a version names: the files that must be there.
REFERENCED = """
SELECT original_sha256 FROM documents WHERE original_sha256 IS NOT NULL
UNION
SELECT original_sha256 FROM document_versions WHERE original_sha256 IS NOT NULL
"""

# The hashes a document and its versions name (read before a purge removes them).
ORIGINALS_OF = """
SELECT original_sha256 FROM documents WHERE document_id = :id AND original_sha256 IS NOT NULL
UNION
SELECT original_sha256 FROM document_versions
WHERE document_id = :id AND original_sha256 IS NOT NULL
"""

IS_REFERENCED = """
SELECT EXISTS (SELECT 1 FROM documents WHERE original_sha256 = :sha)
    OR EXISTS (SELECT 1 FROM document_versions WHERE original_sha256 = :sha)
"""

# -- reading packs -------------------------------------------------------------------------

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

# -- the trash, versions, duplicates, the audit log and relations -------------------------

SOFT_DELETE = (
    "UPDATE documents SET deleted_at = :now, deleted_by = :actor "
    "WHERE document_id = :document_id AND deleted_at IS NULL"
)

RESTORE = "UPDATE documents SET deleted_at = NULL, deleted_by = NULL WHERE document_id = ?"

COUNT_TRASH = "SELECT count(*) FROM documents d WHERE {where}"

TRASH_BEFORE = (
    "SELECT document_id FROM documents WHERE deleted_at IS NOT NULL AND deleted_at < ? "
    "ORDER BY deleted_at"
)

DELETE_VERSIONS = "DELETE FROM document_versions WHERE document_id = ?"

DELETE_RELATIONS_OF = "DELETE FROM relations WHERE source_id = :id OR target_id = :id"

VERSION_CHUNKS = "SELECT chunks FROM document_versions WHERE document_id = ? AND version = ?"

LIVE_SIMHASHES = (
    f"SELECT d.document_id, d.simhash FROM documents d WHERE {LIVE} AND d.simhash IS NOT NULL"
)

SIMHASH_OF = "SELECT simhash FROM documents WHERE document_id = ?"

INSERT_AUDIT = """
INSERT INTO audit (at, actor, action, document_id, before, after, detail)
VALUES (:at, :actor, :action, :document_id, :before, :after, :detail)
"""

AUDIT_COLUMNS = "audit_id, at, actor, action, document_id, before, after, detail"

COUNT_AUDIT = "SELECT count(*) FROM audit a WHERE {where}"

INSERT_RELATION = """
INSERT INTO relations (source_id, relation, target_id, created_at) VALUES (?, ?, ?, ?)
ON CONFLICT DO NOTHING
"""

DELETE_RELATION = "DELETE FROM relations WHERE source_id = ? AND relation = ? AND target_id = ?"
LIVE_WITH_SHA_PAIRS = (
    f"SELECT d.sha256, d.document_id FROM documents d WHERE {LIVE} AND d.sha256 IN ({{marks}}) "
    "ORDER BY d.created_at, d.document_id"
)

AUDIT_PAGE = f"""
SELECT {AUDIT_COLUMNS} FROM audit a WHERE {{where}}
ORDER BY a.audit_id DESC LIMIT :limit OFFSET :offset
"""

# Both ends live: a link to a document in the trash is kept but not shown.
RELATIONS_OF = f"""
SELECT 'outgoing', r.relation, r.target_id, d.title, r.created_at FROM relations r
JOIN documents d ON d.document_id = r.target_id WHERE r.source_id = :id AND {LIVE}
UNION ALL
SELECT 'incoming', r.relation, r.source_id, d.title, r.created_at FROM relations r
JOIN documents d ON d.document_id = r.source_id WHERE r.target_id = :id AND {LIVE}
ORDER BY 2, 3
"""


@dataclass(frozen=True)
class AuditDialect:
    """What the audit's visibility rule says in a backend's own SQL: the target of a link's
    entry, a tombstone without groups, and a tombstone in one of `{groups}`."""

    link_target: str
    no_groups: str
    in_groups: str


def marking_visible(expr: str, seen: str, rank: str, groups: str, dialect: AuditDialect) -> str:
    """The document `expr` names exists (live, trashed, or as a purged tombstone) and the viewer
    may see every marking it is known by; `seen` is the visibility clause over `documents d`."""
    return (
        f"(EXISTS (SELECT 1 FROM documents d WHERE d.document_id = {expr}) "
        f"OR EXISTS (SELECT 1 FROM tombstones t WHERE t.document_id = {expr})) "
        f"AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.document_id = {expr} AND NOT ({seen})) "
        f"AND NOT EXISTS (SELECT 1 FROM tombstones t WHERE t.document_id = {expr} "
        f"AND NOT (t.classification <= {rank} AND ({dialect.no_groups} OR "
        f"{dialect.in_groups.format(groups=groups)})))"
    )


def audit_visibility(seen: str, rank: str, groups: str, dialect: AuditDialect) -> str:
    """Entries about a document the viewer may see; a link's entry also needs its target seen."""
    return (
        f"({marking_visible('a.document_id', seen, rank, groups, dialect)}) AND "
        f"(a.action NOT IN ('relate', 'unrelate') OR ("
        f"{marking_visible(dialect.link_target, seen, rank, groups, dialect)}))"
    )


def audit_where(
    document_id: str | None, action: str | None, actor: str | None, since: str | None
) -> tuple[str, dict[str, Any]]:
    clauses, params = ["1"], {}
    for column, value in (("document_id", document_id), ("action", action), ("actor", actor)):
        if value is not None:
            clauses.append(f"a.{column} = :{column}")
            params[column] = value
    if since is not None:
        clauses.append("a.at >= :since")
        params["since"] = since
    return " AND ".join(clauses), params


# -- the ingest queue ----------------------------------------------------------------------

JOB_COLUMNS = (
    "job_id, state, actor, owner, files, done, outcomes, error, worker, attempts, created_at, "
    "started_at, finished_at"
)

INSERT_JOB = """
INSERT INTO jobs (job_id, state, actor, owner, files, created_at)
VALUES (:job_id, 'queued', :actor, :owner, :files, :now)
"""

INSERT_JOB_FILE = (
    "INSERT INTO job_files (job_id, position, name, data, options) VALUES (?, ?, ?, ?, ?)"
)

GET_JOB = f"SELECT {JOB_COLUMNS} FROM jobs WHERE job_id = ?"

JOB_FILES = """
SELECT position, name, data, options FROM job_files
WHERE job_id = ? AND position >= ? ORDER BY position
"""

# A job whose workers died `:most` times is not tried again.
GIVE_UP = """
UPDATE jobs SET state = 'failed', finished_at = :now, lease_until = NULL,
    error = 'its worker stopped ' || attempts || ' times before it finished'
WHERE state = 'running' AND lease_until < :now AND attempts >= :most
"""

WAITING_JOB = """
SELECT job_id FROM jobs
WHERE state = 'queued' OR (state = 'running' AND lease_until < :now AND attempts < :most)
ORDER BY created_at, job_id LIMIT 1
"""

CLAIM_TEMPLATE = """
UPDATE jobs SET state = 'running', worker = :worker, lease_until = :until,
    attempts = attempts + 1, started_at = coalesce(started_at, :now)
WHERE job_id = ({waiting})
RETURNING {columns}
"""

# Read first, so that idle workers polling the queue take no write lock.
ANY_WAITING = """
SELECT EXISTS (SELECT 1 FROM jobs
               WHERE state = 'queued' OR (state = 'running' AND lease_until < :now))
"""

_MINE = "job_id = :job_id AND worker = :worker AND state = 'running'"

RECORD_PROGRESS = f"""
UPDATE jobs SET done = :done, outcomes = :outcomes, lease_until = :until WHERE {_MINE}
"""

RENEW_LEASE = f"UPDATE jobs SET lease_until = :until WHERE {_MINE}"

FINISH_JOB = f"""
UPDATE jobs SET state = :state, error = :error, finished_at = :now, lease_until = NULL
WHERE {_MINE}
"""

# The files of a finished job are not kept: what was ingested keeps its original.
DROP_JOB_FILES = "DELETE FROM job_files WHERE job_id = ?"
