"""SQL of the store's memory: the trash, versions, duplicates, the audit log and relations.

Beside `kb.store.sqlite.sql`, which holds the schema and everything search and ingest run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kb.store.sqlite.sql import DOCUMENT_COLUMNS, LIVE

SOFT_DELETE = (
    "UPDATE documents SET deleted_at = :now, deleted_by = :actor "
    "WHERE document_id = :document_id AND deleted_at IS NULL"
)
RESTORE = "UPDATE documents SET deleted_at = NULL, deleted_by = NULL WHERE document_id = ?"
TRASH = f"""
SELECT {DOCUMENT_COLUMNS} FROM documents d WHERE {{where}}
ORDER BY d.deleted_at DESC, d.document_id LIMIT :limit OFFSET :offset
"""
COUNT_TRASH = "SELECT count(*) FROM documents d WHERE {where}"
TRASH_BEFORE = (
    "SELECT document_id FROM documents WHERE deleted_at IS NOT NULL AND deleted_at < ? "
    "ORDER BY deleted_at"
)
DELETE_VERSIONS = "DELETE FROM document_versions WHERE document_id = ?"
BURY = """
INSERT OR REPLACE INTO tombstones (document_id, classification, groups, purged_at)
SELECT d.document_id, d.classification,
       (SELECT json_group_array(g.group_name) FROM document_groups g
        WHERE g.document_id = d.document_id), :now
FROM documents d WHERE d.document_id = :document_id
"""
DELETE_RELATIONS_OF = "DELETE FROM relations WHERE source_id = :id OR target_id = :id"

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
VERSION_CHUNKS = "SELECT chunks FROM document_versions WHERE document_id = ? AND version = ?"
VERSION_ONE = (
    f"SELECT {VERSION_COLUMNS} FROM document_versions WHERE document_id = ? AND version = ?"
)

LIVE_WITH_SHA_PAIRS = (
    f"SELECT d.sha256, d.document_id FROM documents d WHERE {LIVE} AND d.sha256 IN ({{marks}}) "
    "ORDER BY d.created_at, d.document_id"
)
LIVE_SIMHASHES = (
    f"SELECT d.document_id, d.simhash FROM documents d WHERE {LIVE} AND d.simhash IS NOT NULL"
)
SIMHASH_OF = "SELECT simhash FROM documents WHERE document_id = ?"

INSERT_AUDIT = """
INSERT INTO audit (at, actor, action, document_id, before, after, detail)
VALUES (:at, :actor, :action, :document_id, :before, :after, :detail)
"""
AUDIT_COLUMNS = "audit_id, at, actor, action, document_id, before, after, detail"
AUDIT_PAGE = f"""
SELECT {AUDIT_COLUMNS} FROM audit a WHERE {{where}}
ORDER BY a.audit_id DESC LIMIT :limit OFFSET :offset
"""
COUNT_AUDIT = "SELECT count(*) FROM audit a WHERE {where}"

INSERT_RELATION = """
INSERT INTO relations (source_id, relation, target_id, created_at) VALUES (?, ?, ?, ?)
ON CONFLICT DO NOTHING
"""
DELETE_RELATION = "DELETE FROM relations WHERE source_id = ? AND relation = ? AND target_id = ?"
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


SQLITE_AUDIT = AuditDialect(
    link_target="json_extract(COALESCE(a.after, a.before), '$.target')",
    no_groups="json_array_length(t.groups) = 0",
    in_groups="EXISTS (SELECT 1 FROM json_each(t.groups) j WHERE j.value IN ({groups}))",
)


def marking_visible(
    expr: str, seen: str, rank: str, groups: str, dialect: AuditDialect = SQLITE_AUDIT
) -> str:
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


def audit_visibility(
    seen: str, rank: str, groups: str, dialect: AuditDialect = SQLITE_AUDIT
) -> str:
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


FIELDS_BY_ID = (
    "SELECT document_id, title, doc_type, date, metadata, sha256, version, classification, "
    "(SELECT json_group_array(g.group_name) FROM document_groups g "
    "WHERE g.document_id = documents.document_id) "
    "FROM documents WHERE document_id IN ({marks})"
)
