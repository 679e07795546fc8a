"""SQLite's own SQL of the store's memory: the trash, versions, the audit log's visibility (what
both dialects say alike is in `kb.store.sql_history`)."""

from __future__ import annotations

from typing import Any

from kb.store import sql_history as common_history
from kb.store.sql_history import AuditDialect
from kb.store.sqlite.sql import DOCUMENT_COLUMNS

TRASH = f"""
SELECT {DOCUMENT_COLUMNS} FROM documents d WHERE {{where}}
ORDER BY d.deleted_at DESC, d.document_id LIMIT :limit OFFSET :offset
"""
BURY = """
INSERT OR REPLACE INTO tombstones (document_id, classification, groups, purged_at)
SELECT d.document_id, d.classification,
       (SELECT json_group_array(g.group_name) FROM document_groups g
        WHERE g.document_id = d.document_id), :now
FROM documents d WHERE d.document_id = :document_id
"""

SNAPSHOT_VERSION = """
INSERT INTO document_versions (document_id, version, title, doc_type, source_name, sha256,
                               metadata, date, chunks, created_at, replaced_at, original_sha256,
                               original_media_type, original_name, classification, groups)
SELECT d.document_id, d.version, d.title, d.doc_type, d.source_name, d.sha256, d.metadata, d.date,
       (SELECT json_group_array(json_object(
            'ordinal', c.ordinal, 'text', c.text, 'heading', c.heading,
            'page_start', c.page_start, 'page_end', c.page_end, 'ocr', c.ocr))
        FROM (SELECT * FROM chunks WHERE document_id = d.document_id ORDER BY ordinal) c),
       d.updated_at, :now, d.original_sha256, d.original_media_type, d.original_name,
       d.classification,
       (SELECT json_group_array(g.group_name) FROM document_groups g
        WHERE g.document_id = d.document_id)
FROM documents d WHERE d.document_id = :document_id
"""
VERSION_COLUMNS = (
    "version, title, doc_type, source_name, sha256, metadata, date, created_at, replaced_at, "
    "json_array_length(chunks), original_sha256, original_media_type, original_name, "
    "classification, groups"
)
VERSIONS_OF = (
    f"SELECT {VERSION_COLUMNS} FROM document_versions WHERE document_id = ? ORDER BY version DESC"
)
VERSION_ONE = (
    f"SELECT {VERSION_COLUMNS} FROM document_versions WHERE document_id = ? AND version = ?"
)


SQLITE_AUDIT = AuditDialect(
    link_target="json_extract(COALESCE(a.after, a.before), '$.target')",
    no_groups="json_array_length(t.groups) = 0",
    in_groups="EXISTS (SELECT 1 FROM json_each(t.groups) j WHERE j.value IN ({groups}))",
)


def audit_where(
    document_id: str | None, action: str | None, actor: str | None, since: str | None
) -> tuple[str, dict[str, Any]]:
    return common_history.audit_where(document_id, action, actor, since)


def audit_visibility(seen: str, rank: str, groups: str) -> str:
    return common_history.audit_visibility(seen, rank, groups, SQLITE_AUDIT)


FIELDS_BY_ID = (
    "SELECT document_id, title, doc_type, date, metadata, sha256, version, classification, "
    "(SELECT json_group_array(g.group_name) FROM document_groups g "
    "WHERE g.document_id = documents.document_id) "
    "FROM documents WHERE document_id IN ({marks})"
)
