"""The statements of the store's memory both dialects run as written: the trash, versions,
duplicates, the audit log and relations; and the audit's visibility rule, given what each
dialect says its own way (`AuditDialect`). Placeholders as in `kb.store.sql_common`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kb.store.sql_filters import LIVE

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
