"""SQL of original files: the columns that name them, and which hashes are still referenced.

Beside `kb.store.sqlite.sql`, which holds the schema.
"""

from __future__ import annotations

M006_ORIGINALS = """
-- The file a document (or an earlier version) was read from, kept in STORE/originals by its
-- SHA-256; NULL for documents added before originals were kept, and for records.
ALTER TABLE documents ADD COLUMN original_sha256 TEXT;
ALTER TABLE documents ADD COLUMN original_media_type TEXT;
ALTER TABLE documents ADD COLUMN original_name TEXT;
ALTER TABLE document_versions ADD COLUMN original_sha256 TEXT;
ALTER TABLE document_versions ADD COLUMN original_media_type TEXT;
ALTER TABLE document_versions ADD COLUMN original_name TEXT;
CREATE INDEX documents_original ON documents (original_sha256);
CREATE INDEX document_versions_original ON document_versions (original_sha256);
"""

ORIGINAL_COLUMNS = "d.original_sha256, d.original_media_type, d.original_name"

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
