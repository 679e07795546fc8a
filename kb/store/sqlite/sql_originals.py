"""SQLite's migration of original files and the columns that name them (which hashes are still
referenced is in `kb.store.sql_common`)."""

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
