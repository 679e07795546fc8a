"""The statements both dialects run as written, of documents, passages, vectors, the checks, the
keyword log and original files (beside it, the same for history, `kb.store.sql_history`; the
ingest queue, `kb.store.sql_jobs`; accounts, `kb.store.sql_users`). Each dialect's own
statements are in its leaf (`kb.store.sqlite`, `kb.store.postgres`), declared by
`kb.store.dialect`.

Placeholders are the store's neutral style (`?`, `:name`); each dialect's `prepare` turns them
into what its driver takes. `{where}` is a dialect's filter clause over `documents d`;
`{marks}` one placeholder per key, at most MAX_KEYS_PER_QUERY.
"""

from __future__ import annotations

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
