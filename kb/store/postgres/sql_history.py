"""The PostgreSQL dialect's SQL of the store's memory: the trash, versions, duplicates, the
audit log and relations (what both dialects say alike is in `kb.store.sql_history`)."""

from __future__ import annotations

from typing import Any

from kb.store import sql_history as common_history
from kb.store.postgres.sql import DOCUMENT_COLUMNS, GROUPS
from kb.store.sql_history import AuditDialect

TRASH = f"""
SELECT {DOCUMENT_COLUMNS} FROM documents d WHERE {{where}}
ORDER BY d.deleted_at DESC, d.document_id LIMIT :limit OFFSET :offset
"""
BURY = f"""
INSERT INTO tombstones (document_id, classification, groups, purged_at)
SELECT d.document_id, d.classification, {GROUPS.format("d")}, :now
FROM documents d WHERE d.document_id = :document_id
ON CONFLICT (document_id) DO UPDATE SET classification = excluded.classification,
    groups = excluded.groups, purged_at = excluded.purged_at
"""
SNAPSHOT_VERSION = f"""
INSERT INTO document_versions (document_id, version, title, doc_type, source_name, sha256,
                               metadata, date, chunks, created_at, replaced_at, original_sha256,
                               original_media_type, original_name, classification, groups)
SELECT d.document_id, d.version, d.title, d.doc_type, d.source_name, d.sha256, d.metadata, d.date,
       (SELECT coalesce(json_agg(json_build_object(
            'ordinal', c.ordinal, 'text', c.text, 'heading', c.heading,
            'page_start', c.page_start, 'page_end', c.page_end, 'ocr', c.ocr)
            ORDER BY c.ordinal), '[]')::text
        FROM chunks c WHERE c.document_id = d.document_id),
       d.updated_at, :now, d.original_sha256, d.original_media_type, d.original_name,
       d.classification, {GROUPS.format("d")}
FROM documents d WHERE d.document_id = :document_id
"""
VERSION_COLUMNS = (
    "version, title, doc_type, source_name, sha256, metadata, date, created_at, replaced_at, "
    "json_array_length(chunks::json), original_sha256, original_media_type, original_name, "
    "classification, groups"
)
VERSIONS_OF = (
    f"SELECT {VERSION_COLUMNS} FROM document_versions WHERE document_id = ? ORDER BY version DESC"
)
VERSION_ONE = (
    f"SELECT {VERSION_COLUMNS} FROM document_versions WHERE document_id = ? AND version = ?"
)
FIELDS_BY_ID = (
    "SELECT document_id, title, doc_type, date, metadata, sha256, version, classification, "
    f"{GROUPS.format('documents')} FROM documents WHERE document_id IN ({{marks}})"
)

POSTGRES_AUDIT = AuditDialect(
    link_target="(coalesce(a.after, a.before)::json ->> 'target')",
    no_groups="json_array_length(t.groups::json) = 0",
    in_groups="EXISTS (SELECT 1 FROM json_array_elements_text(t.groups::json) j (v) "
    "WHERE j.v IN ({groups}))",
)


def audit_where(
    document_id: str | None, action: str | None, actor: str | None, since: str | None
) -> tuple[str, dict[str, Any]]:
    where, params = common_history.audit_where(document_id, action, actor, since)
    return "TRUE" + where.removeprefix("1"), params


def audit_visibility(seen: str, rank: str, groups: str) -> str:
    return common_history.audit_visibility(seen, rank, groups, POSTGRES_AUDIT)
