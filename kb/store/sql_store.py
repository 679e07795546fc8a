"""The store's logic, once for every engine: documents, passages, vectors, keyword search,
history, packs and the ingest queue, on the dialect it is given (`kb.store.dialect`): SQLite
(`kb.store.sqlite.store`) or PostgreSQL (`kb.store.postgres.store`)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from kb.access import LEVELS
from kb.look_alikes import ASCII_LOWER
from kb.metadata.limits import loads_shown
from kb.models import Chunk, Document, DocumentDraft, Filters
from kb.store import sql_common as common
from kb.store.integrity import describe, store_problems
from kb.store.jobs import SQLJobs
from kb.store.protocol import Fingerprint, Ids, KeywordText, Marking, Vectors, WriteResult
from kb.store.rows import (
    chunk_of,
    document_of,
    document_params,
    fields_of_draft,
    ids_of,
    utc_now,
)


class SQLStore(SQLJobs):
    """Documents, passages, vectors and the keyword index in one SQL database, through its
    dialect."""

    def write_documents(
        self,
        drafts: Sequence[DocumentDraft],
        vectors: Sequence[Vectors],
        simhashes: Sequence[int | None] | None = None,
        actor: str = "system",
    ) -> WriteResult:
        removed: list[int] = []
        added: list[int] = []
        now = utc_now()
        fingerprints = simhashes if simhashes is not None else [None] * len(drafts)
        self._keep_originals(drafts)  # files first: a crash leaves an orphan, never a dangling row
        with self._transaction():
            before = self._fields_of([d.document_id for d in drafts])
            for draft, matrix, simhash in zip(drafts, vectors, fingerprints, strict=True):
                old = before.get(draft.document_id)
                if old is not None:
                    # The content it replaces stays as history, outside every index.
                    snapshot = {"document_id": draft.document_id, "now": now}
                    self._run(self._dialect.history.SNAPSHOT_VERSION, snapshot)
                removed.extend(self._delete_chunks(draft.document_id))
                self._run(common.UPSERT_DOCUMENT, document_params(draft, now, simhash))
                self._set_groups(draft)
                self._audit_write(actor, draft, old)
                for chunk, vector in zip(draft.chunks, matrix, strict=True):
                    cursor = self._run(
                        self._dialect.core.INSERT_CHUNK,
                        (
                            draft.document_id,
                            chunk.ordinal,
                            chunk.text,
                            chunk.heading,
                            chunk.page_start,
                            chunk.page_end,
                            chunk.char_start,
                            chunk.char_end,
                            int(chunk.ocr),
                        ),
                    )
                    chunk_id = self._dialect.inserted_id(cursor)
                    self._run(
                        self._dialect.core.INSERT_VECTOR,
                        (chunk_id, self._dialect.vector_param(vector)),
                    )
                    keyword = (chunk_id, draft.title, chunk.heading or "", chunk.text)
                    self._run(self._dialect.core.INSERT_FTS, keyword)
                    added.append(chunk_id)
            generation = self._bump_generation()
        return WriteResult(ids_of(removed), ids_of(added), generation)

    def _audit_write(self, actor: str, draft: DocumentDraft, old: dict[str, Any] | None) -> None:
        """An add lists every field; a new version the fields that changed (its content's hash
        always), each entry with the version numbers."""
        new = fields_of_draft(draft)
        if old is None:
            self._audit(actor, "add", draft.document_id, after={**new, "version": 1})
            return
        changed = [k for k in new if old.get(k) != new[k]]
        self._audit(
            actor,
            "replace",
            draft.document_id,
            before={**{k: old.get(k) for k in changed}, "version": old["version"]},
            after={**{k: new[k] for k in changed}, "version": old["version"] + 1},
        )

    def _set_groups(self, draft: DocumentDraft) -> None:
        """The draft's groups, writing only what differs: each group row written logs every
        passage of the document for the keyword index (migration 13), which an unchanged
        marking must not."""
        if draft.groups is None:
            return
        rows = self._run(common.GROUPS_OF, (draft.document_id,)).fetchall()
        stored, wanted = {str(r[0]) for r in rows}, set(draft.groups)
        document_id = draft.document_id
        self._run_many(common.DELETE_GROUP, ((document_id, g) for g in stored - wanted))
        self._run_many(self._dialect.core.INSERT_GROUP, ((document_id, g) for g in wanted - stored))

    def update_document_fields(self, draft: DocumentDraft, actor: str = "system") -> WriteResult:
        with self._transaction():
            old = self._fields_of([draft.document_id]).get(draft.document_id)
            self._run(common.UPDATE_DOCUMENT_FIELDS, document_params(draft, utc_now()))
            self._set_groups(draft)
            if old is not None and old["title"] != draft.title:
                ids = self._chunk_ids(draft.document_id)
                self._run_many(self._dialect.core.UPDATE_FTS_TITLE, ((draft.title, i) for i in ids))
            new = fields_of_draft(draft)
            changed = [k for k in new if k != "sha256" and (old or {}).get(k) != new[k]]
            self._audit(
                actor,
                "edit",
                draft.document_id,
                before={k: (old or {}).get(k) for k in changed},
                after={k: new[k] for k in changed},
            )
            # Filters read metadata live; the bump refreshes what is cached per generation.
            generation = self._bump_generation()
        return WriteResult(ids_of([]), ids_of([]), generation)

    def replace_vectors(self, ids: Ids, vectors: Vectors) -> int:
        with self._transaction():
            self._run_many(
                self._dialect.core.UPDATE_VECTOR,
                (
                    (self._dialect.vector_param(v), int(i))
                    for i, v in zip(ids, vectors, strict=True)
                ),
            )
            return self._bump_generation()

    # -- reads ------------------------------------------------------------------------

    def fingerprints(self, document_ids: Sequence[str]) -> dict[str, Fingerprint]:
        rows = self._rows_for(
            self._dialect.core.FINGERPRINTS_BY_ID, list(dict.fromkeys(document_ids))
        )
        return {
            r[0]: Fingerprint(
                r[1],
                loads_shown(r[2]),
                r[3],
                r[4],
                r[5],
                bool(r[6]),
                LEVELS[int(r[7])],
                tuple(sorted(json.loads(r[8]))),
                int(r[9]),
            )
            for r in rows
        }

    def case_variants(self, document_ids: Sequence[str]) -> list[str]:
        lowered = list(dict.fromkeys(d.translate(ASCII_LOWER) for d in document_ids))
        return [r[0] for r in self._rows_for(self._dialect.core.CASE_VARIANTS, lowered)]

    def get_document(self, document_id: str) -> Document | None:
        with self._readers.borrow() as db:
            row = self._read(db, self._dialect.core.GET_DOCUMENT, (document_id,)).fetchone()
        return None if row is None else document_of(row)

    def documents_by_id(self, document_ids: Sequence[str]) -> dict[str, Document]:
        rows = self._read_rows_for(
            self._dialect.core.DOCUMENTS_BY_ID, list(dict.fromkeys(document_ids))
        )
        return {row[0]: document_of(row) for row in rows}

    def list_documents(self, filters: Filters, limit: int, offset: int) -> list[Document]:
        where, params = self._dialect.build_where(filters)
        with self._readers.borrow() as db:
            page = {**params, "limit": limit, "offset": offset}
            rows = self._read(
                db, self._dialect.core.LIST_DOCUMENTS.format(where=where), page
            ).fetchall()
        return [document_of(row) for row in rows]

    def count_documents(self, filters: Filters) -> int:
        where, params = self._dialect.build_where(filters)
        with self._readers.borrow() as db:
            count = self._read(db, common.COUNT_FILTERED_DOCUMENTS.format(where=where), params)
            return int(count.fetchone()[0])

    def chunks_of(self, document_id: str) -> list[Chunk]:
        with self._readers.borrow() as db:
            rows = self._read(db, common.CHUNKS_OF_DOCUMENT, (document_id,)).fetchall()
        return [chunk_of(row) for row in rows]

    def chunks_by_id(self, chunk_ids: Sequence[int]) -> dict[int, Chunk]:
        keys = [int(i) for i in dict.fromkeys(chunk_ids)]
        rows = self._read_rows_for(common.CHUNKS_BY_ID, keys)
        return {row[0]: chunk_of(row) for row in rows}

    def chunk_owners(self, chunk_ids: Sequence[int]) -> dict[int, str]:
        keys = [int(i) for i in dict.fromkeys(chunk_ids)]
        rows = self._read_rows_for(common.CHUNK_OWNERS, keys)
        return {int(row[0]): row[1] for row in rows}

    def vectors_of(self, chunk_ids: Sequence[int]) -> tuple[Ids, Vectors]:
        # Sorted keys, each batch ordered: the rows come back in chunk_id order overall.
        keys = sorted({int(i) for i in chunk_ids})
        return self._dialect.unpack(self._read_rows_for(self._dialect.core.VECTORS_BY_ID, keys))

    def all_vectors(self, dimension: int) -> tuple[Ids, Vectors]:
        with self._lock:
            rows = self._run(self._dialect.core.ALL_VECTORS).fetchall()
        ids, vectors = self._dialect.unpack(rows)
        return ids, vectors.reshape(len(ids), dimension)

    def iter_chunk_texts(self, batch: int) -> Iterator[list[tuple[int, str]]]:
        with self._lock:
            rows = self._run(common.ALL_CHUNK_TEXTS).fetchall()
        for start in range(0, len(rows), batch):
            yield [(int(r[0]), str(r[1])) for r in rows[start : start + batch]]

    def keyword_log_span(self) -> tuple[int, int]:
        with self._readers.borrow() as db:
            start = int(self._read(db, common.KEYWORD_LOG_START).fetchone()[0])
            end = int(self._read(db, common.KEYWORD_LOG_END).fetchone()[0])
        return start, end

    def keyword_changes(self, since: int, until: int) -> list[int]:
        with self._readers.borrow() as db:
            rows = self._read(
                db, common.KEYWORD_LOG_SINCE, {"since": since, "until": until}
            ).fetchall()
        return [int(r[0]) for r in rows]

    def live_markings(self) -> list[Marking]:
        with self._readers.borrow() as db:
            rows = self._read(db, self._dialect.keyword.LIVE_MARKINGS).fetchall()
        return sorted({(int(r[0]), tuple(sorted(json.loads(r[1])))) for r in rows})

    def keyword_texts(self, chunk_ids: Sequence[int]) -> list[KeywordText]:
        rows = self._read_rows_for(self._dialect.keyword.KEYWORD_TEXTS, list(chunk_ids))
        return [_keyword_text(r) for r in rows]

    def iter_keyword_texts(self, batch: int) -> Iterator[list[KeywordText]]:
        after = -1
        while True:
            with self._readers.borrow() as db:
                rows = self._read(
                    db, self._dialect.keyword.KEYWORD_ALL_TEXTS, {"after": after, "batch": batch}
                ).fetchall()
            if not rows:
                return
            yield [_keyword_text(r) for r in rows]
            after = int(rows[-1][0])

    def keyword_search(
        self, match: str, filters: Filters, limit: int, budget: int | None = None
    ) -> list[tuple[int, float]]:
        where, params = self._dialect.build_where(filters)
        statements = self._dialect.keyword
        template = (
            statements.KEYWORD_SEARCH if budget is None else statements.KEYWORD_SEARCH_BOUNDED
        )
        with self._readers.borrow() as db:
            rows = self._read(
                db,
                template.format(where=where),
                {**params, "match": self._dialect.match(match), "limit": limit, "budget": budget},
            ).fetchall()
        return [(int(r[0]), float(r[1])) for r in rows]

    def keyword_ranked(self, match: str, budget: int) -> list[tuple[int, float]]:
        with self._readers.borrow() as db:
            rows = self._read(
                db,
                self._dialect.keyword.KEYWORD_RANKED,
                {"match": self._dialect.match(match), "budget": budget},
            ).fetchall()
        return [(int(r[0]), float(r[1])) for r in rows]

    def match_counts(self, matches: Sequence[str], cap: int) -> dict[str, int]:
        counts = {}
        with self._readers.borrow() as db:
            for match in dict.fromkeys(matches):
                row = self._read(
                    db,
                    self._dialect.keyword.COUNT_MATCHES,
                    {"match": self._dialect.match(match), "cap": cap},
                )
                counts[match] = int(row.fetchone()[0])
        return counts

    def keyword_rows(self) -> int:
        with self._readers.borrow() as db:
            return int(self._read(db, self._dialect.keyword.COUNT_FTS_ROWS).fetchone()[0])

    def filtered_chunk_ids(self, filters: Filters) -> Ids:
        where, params = self._dialect.build_where(filters)
        with self._readers.borrow() as db:
            rows = self._read(db, common.FILTERED_CHUNK_IDS.format(where=where), params).fetchall()
        return ids_of([r[0] for r in rows])

    def metadata_values(self, longest: int, filters: Filters) -> list[tuple[str, str, int]]:
        where, params = self._dialect.build_where(filters)
        with self._readers.borrow() as db:
            rows = self._read(
                db,
                self._dialect.core.METADATA_VALUES.format(where=where),
                {**params, "longest": longest},
            ).fetchall()
        return [(str(k), str(v), int(n)) for k, v, n in rows]

    def metadata_keys(self, filters: Filters) -> set[str]:
        where, params = self._dialect.build_where(filters)
        with self._readers.borrow() as db:
            rows = self._read(
                db, self._dialect.core.METADATA_KEYS.format(where=where), params
            ).fetchall()
        return {str(r[0]) for r in rows}

    def counts(self) -> tuple[int, int, dict[str, int]]:
        with self._lock:
            documents = int(self._run(common.COUNT_DOCUMENTS).fetchone()[0])
            chunks = int(self._run(common.COUNT_CHUNKS).fetchone()[0])
            by_type = {str(t): int(n) for t, n in self._run(common.COUNT_BY_TYPE)}
        return documents, chunks, by_type

    def visible_counts(self, filters: Filters) -> tuple[int, int, dict[str, int]]:
        """Documents, chunks and documents per type that pass the filters (and their viewer)."""
        where, params = self._dialect.build_where(filters)
        with self._readers.borrow() as db:
            documents = self._read(db, common.COUNT_FILTERED_DOCUMENTS.format(where=where), params)
            total = int(documents.fetchone()[0])
            chunks = self._read(db, common.COUNT_FILTERED_CHUNKS.format(where=where), params)
            passages = int(chunks.fetchone()[0])
            by_type = {
                str(t): int(n)
                for t, n in self._read(
                    db, common.COUNT_FILTERED_BY_TYPE.format(where=where), params
                )
            }
        return total, passages, by_type

    def facet_counts(self, filters: Filters) -> list[tuple[str, str, int]]:
        where, params = self._dialect.build_where(filters)
        with self._readers.borrow() as db:
            rows = self._read(
                db, self._dialect.facets.FACET_COUNTS.format(where=where), params
            ).fetchall()
        return [(str(f), str(v), int(n)) for f, v, n in rows]

    # -- maintenance ------------------------------------------------------------------

    def problems(self, dimension: int | None) -> list[str]:
        with self._lock:
            problems = store_problems(self._run, dimension, self._dialect.checks)
        missing, _ = self.original_files()
        if missing:
            problems.append(describe("original files named by documents but missing", missing))
        return problems

    def vector_ids(self) -> Ids:
        """Chunk ids of the stored vectors the index should hold: live documents' only."""
        with self._lock:
            return ids_of([row[0] for row in self._run(common.VECTOR_IDS)])


def _keyword_text(row: Sequence[Any]) -> KeywordText:
    marking = (int(row[4]), tuple(sorted(json.loads(row[5]))))
    return KeywordText(int(row[0]), str(row[1] or ""), str(row[2] or ""), str(row[3]), marking)
