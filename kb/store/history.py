"""The store's memory, on any dialect: the trash, earlier versions, the audit log and relations."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from kb.access import LEVELS
from kb.metadata.limits import loads_shown
from kb.models import AuditEntry, Document, Filters, Relation, Version
from kb.relations import INVERSES
from kb.store import sql_common as common
from kb.store import sql_history
from kb.store.base import SQLBase
from kb.store.protocol import WriteResult
from kb.store.rows import document_of, ids_of, original_of, utc_now


class SQLHistory(SQLBase):
    # -- the trash ----------------------------------------------------------------------

    def soft_delete(self, document_id: str, actor: str) -> WriteResult:
        """Hide a document from every read; its passages leave the vector index."""
        with self._transaction():
            cursor = self._run(
                sql_history.SOFT_DELETE,
                {"document_id": document_id, "now": utc_now(), "actor": actor},
            )
            if cursor.rowcount == 0:
                return WriteResult(ids_of([]), ids_of([]), self.generation())
            removed = self._chunk_ids(document_id)
            self._audit(actor, "delete", document_id)
            generation = self._bump_generation()
        return WriteResult(ids_of(removed), ids_of([]), generation)

    def restore(self, document_id: str, actor: str) -> WriteResult:
        with self._transaction():
            self._run(sql_history.RESTORE, (document_id,))
            added = self._chunk_ids(document_id)
            self._audit(actor, "restore", document_id)
            generation = self._bump_generation()
        return WriteResult(ids_of([]), ids_of(added), generation)

    def purge(self, document_id: str, actor: str) -> WriteResult:
        """Remove a document for good: its row, passages, vectors, FTS rows, versions, links."""
        with self._transaction():
            before = self._fields_of([document_id]).get(document_id)
            originals = self._originals_of(document_id)
            self._run(self._dialect.history.BURY, {"document_id": document_id, "now": utc_now()})
            removed = self._delete_chunks(document_id)
            self._run(sql_history.DELETE_VERSIONS, (document_id,))
            self._run(sql_history.DELETE_RELATIONS_OF, {"id": document_id})
            self._run(common.DELETE_DOCUMENT, (document_id,))
            if before is not None:
                # The audit keeps who purged what, never the text.
                before.pop("sha256", None)
            self._audit(actor, "purge", document_id, before=before)
            generation = self._bump_generation()
        self._drop_unreferenced(originals)
        return WriteResult(ids_of(removed), ids_of([]), generation)

    def trash(self, filters: Filters, limit: int, offset: int) -> tuple[int, list[Document]]:
        where, params = self._dialect.build_where(filters, live=False)
        with self._lock:
            count = self._run(sql_history.COUNT_TRASH.format(where=where), params)
            total = int(count.fetchone()[0])
            page = {**params, "limit": limit, "offset": offset}
            rows = self._run(self._dialect.history.TRASH.format(where=where), page).fetchall()
        return total, [document_of(r) for r in rows]

    def trashed_before(self, moment: str) -> list[str]:
        with self._lock:
            return [r[0] for r in self._run(sql_history.TRASH_BEFORE, (moment,))]

    def _chunk_ids(self, document_id: str) -> list[int]:
        return [r[0] for r in self._run(common.CHUNK_IDS_OF_DOCUMENT, (document_id,))]

    # -- versions -----------------------------------------------------------------------

    def versions(self, document_id: str) -> list[Version]:
        """Earlier versions, newest first (the current one is the document itself)."""
        with self._lock:
            rows = self._run(self._dialect.history.VERSIONS_OF, (document_id,)).fetchall()
        return [_version(r) for r in rows]

    def version(self, document_id: str, number: int) -> tuple[Version, list[dict[str, Any]]] | None:
        """An earlier version with its passages (ordinal, text, heading, pages, ocr)."""
        with self._lock:
            key = (document_id, number)
            row = self._run(self._dialect.history.VERSION_ONE, key).fetchone()
            chunks = self._run(sql_history.VERSION_CHUNKS, key).fetchone()
        if row is None:
            return None
        return _version(row), json.loads(chunks[0])

    # -- duplicates ---------------------------------------------------------------------

    def live_with_sha(self, hashes: list[str]) -> dict[str, str]:
        """content hash -> a live document holding that content."""
        found: dict[str, str] = {}
        for sha, document_id in self._rows_for(sql_history.LIVE_WITH_SHA_PAIRS, hashes):
            found.setdefault(sha, document_id)
        return found

    def live_simhashes(self) -> tuple[list[str], list[int]]:
        with self._lock:
            rows = self._run(sql_history.LIVE_SIMHASHES).fetchall()
        return [r[0] for r in rows], [int(r[1]) for r in rows]

    def simhash_of(self, document_id: str) -> int | None:
        with self._lock:
            row = self._run(sql_history.SIMHASH_OF, (document_id,)).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    # -- the audit log ------------------------------------------------------------------

    def audit_entries(
        self,
        document_id: str | None,
        action: str | None,
        actor: str | None,
        since: str | None,
        limit: int,
        offset: int,
        filters: Filters,
    ) -> tuple[int, list[AuditEntry]]:
        where, params = self._dialect.history.audit_where(document_id, action, actor, since)
        viewer = filters.viewer
        if viewer is not None:
            seen, more = self._dialect.build_where(filters, live=None)
            params.update(more, audit_rank=viewer.rank)
            names = [f"audit_group{n}" for n in range(len(viewer.groups))]
            params.update(zip(names, viewer.groups, strict=True))
            groups = ", ".join(f":{n}" for n in names) or "NULL"
            where += " AND " + self._dialect.history.audit_visibility(seen, ":audit_rank", groups)
        with self._lock:
            count = self._run(sql_history.COUNT_AUDIT.format(where=where), params)
            total = int(count.fetchone()[0])
            rows = self._run(
                sql_history.AUDIT_PAGE.format(where=where),
                {**params, "limit": limit, "offset": offset},
            ).fetchall()
        return total, [_audit_entry(r) for r in rows]

    # -- relations ----------------------------------------------------------------------

    def add_relations(self, source_id: str, links: Sequence[tuple[str, str]], actor: str) -> int:
        """Record links a document declares (a target not stored yet is linked when it
        arrives); returns how many were new. Each new link is audited."""
        added = 0
        with self._transaction():
            for relation, target_id in links:
                cursor = self._run(
                    sql_history.INSERT_RELATION, (source_id, relation, target_id, utc_now())
                )
                if cursor.rowcount:
                    added += 1
                    self._audit(
                        actor,
                        "relate",
                        source_id,
                        after={"relation": relation, "target": target_id},
                    )
        return added

    def remove_relation(self, source_id: str, relation: str, target_id: str, actor: str) -> bool:
        with self._transaction():
            link = (source_id, relation, target_id)
            cursor = self._run(sql_history.DELETE_RELATION, link)
            if cursor.rowcount:
                self._audit(
                    actor, "unrelate", source_id, before={"relation": relation, "target": target_id}
                )
        return bool(cursor.rowcount)

    def relations_of(self, document_id: str) -> list[Relation]:
        with self._lock:
            rows = self._run(sql_history.RELATIONS_OF, {"id": document_id}).fetchall()
        return [
            Relation(
                direction=direction,
                relation=relation,
                label=relation if direction == "outgoing" else INVERSES[relation],
                document_id=other,
                title=title,
                created_at=created_at,
            )
            for direction, relation, other, title, created_at in rows
        ]


def _version(row: Any) -> Version:
    return Version(
        version=int(row[0]),
        title=row[1],
        doc_type=row[2],
        source_name=row[3],
        sha256=row[4],
        metadata=loads_shown(row[5]),
        date=row[6],
        created_at=row[7],
        replaced_at=row[8],
        chunk_count=int(row[9]),
        original=original_of(row[10:13]),
        classification=LEVELS[int(row[13])],
        groups=tuple(sorted(json.loads(row[14]))),
    )


def _audit_entry(row: Any) -> AuditEntry:
    return AuditEntry(
        audit_id=int(row[0]),
        at=row[1],
        actor=row[2],
        action=row[3],
        document_id=row[4],
        before=None if row[5] is None else loads_shown(row[5]),
        after=None if row[6] is None else loads_shown(row[6]),
        detail=row[7],
    )
