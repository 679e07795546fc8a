"""SQL of `kb check` and `kb backup`: each check finds rows that break one invariant.

Beside `kb.store.sqlite.sql`, which holds the schema and everything search and ingest run.
"""

from __future__ import annotations

from kb.store.sqlite.sql import LIVE

# Each is one statement, so it reads one snapshot and never sees a write half done.
QUICK_CHECK = "PRAGMA quick_check"
USER_VERSION = "PRAGMA user_version"
TABLE_NAMES = "SELECT name FROM sqlite_master WHERE type = 'table'"
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
VECTORS_OF_WRONG_SIZE = (
    "SELECT chunk_id FROM vectors WHERE length(vector) != :bytes ORDER BY chunk_id"
)
VECTOR_IDS = f"""
SELECT v.chunk_id FROM vectors v
JOIN chunks c ON c.chunk_id = v.chunk_id JOIN documents d ON d.document_id = c.document_id
WHERE {LIVE} ORDER BY v.chunk_id
"""
ALL_META = "SELECT key, value FROM meta"
