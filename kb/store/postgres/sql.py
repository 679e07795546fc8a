"""The PostgreSQL dialect's own statements: those the store's logic runs that PostgreSQL says
differently (the ones both say alike are in `kb.store.sql_common`), as `kb.store.dialect`
declares them. Beside it, `kb.store.postgres.sql_schema` (the migrations),
`kb.store.postgres.sql_history` and `kb.store.postgres.sql_jobs`.

Placeholders are written in the store's neutral style (`?` and `:name`); the dialect's `prepare`
(`kb.store.postgres.connection.to_psycopg`) turns them into psycopg's.
"""

from __future__ import annotations

from kb.store.postgres.sql_schema import TEXT_SEARCH
from kb.store.sql_filters import LIVE, Bind, FilterDialect

# Writers one at a time, for the whole transaction, as SQLite's BEGIN IMMEDIATE has them: the
# keyword log's positions are then handed out in commit order, so a cache caught up to a
# position never misses a lower one committed later (kb.keywords.index).
BEGIN = ("BEGIN", "SELECT pg_advisory_xact_lock(7213002)")

# The generation row is the writers' queue: every write bumps it last, in its transaction.
BUMP_GENERATION = """
INSERT INTO meta (key, value) VALUES ('generation', '1')
ON CONFLICT (key) DO UPDATE SET value = (meta.value::bigint + 1)::text
RETURNING value
"""

GROUPS = (
    "(SELECT coalesce(json_agg(g.group_name ORDER BY g.group_name), '[]')::text "
    "FROM document_groups g WHERE g.document_id = {}.document_id)"
)
ORIGINAL_COLUMNS = "d.original_sha256, d.original_media_type, d.original_name"
DOCUMENT_COLUMNS = (
    "d.document_id, d.title, d.doc_type, d.source_name, d.sha256, d.metadata, d.date, "
    "d.created_at, d.updated_at, "
    "(SELECT count(*) FROM chunks c WHERE c.document_id = d.document_id) AS chunk_count, "
    f"d.version, d.deleted_at, d.deleted_by, d.classification, {GROUPS.format('d')} AS groups, "
    f"{ORIGINAL_COLUMNS}"
)
GET_DOCUMENT = f"SELECT {DOCUMENT_COLUMNS} FROM documents d WHERE d.document_id = ?"
FINGERPRINTS_BY_ID = (
    "SELECT document_id, sha256, metadata, title, doc_type, date, deleted_at IS NOT NULL, "
    f"classification, {GROUPS.format('documents')}, version "
    "FROM documents WHERE document_id IN ({marks})"
)
DOCUMENTS_BY_ID = (
    f"SELECT {DOCUMENT_COLUMNS} FROM documents d "
    "WHERE d.deleted_at IS NULL AND d.document_id IN ({marks})"
)
INSERT_GROUP = (
    "INSERT INTO document_groups (document_id, group_name) VALUES (?, ?) ON CONFLICT DO NOTHING"
)
INSERT_CHUNK = """
INSERT INTO chunks (document_id, ordinal, text, heading, page_start, page_end, char_start, char_end,
                    ocr)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
RETURNING chunk_id
"""
# Vectors go in as pgvector's text form ('[0.1,0.2,...]') and come back in its binary form
# (vector_send: a 4-byte header, then big-endian float4s), which NumPy reads in one go.
INSERT_VECTOR = "INSERT INTO vectors (chunk_id, vector) VALUES (?, ?::vector)"
UPDATE_VECTOR = "UPDATE vectors SET vector = ?::vector WHERE chunk_id = ?"
VECTORS_BY_ID = (
    "SELECT chunk_id, vector_send(vector) FROM vectors WHERE chunk_id IN ({marks}) "
    "ORDER BY chunk_id"
)
ALL_VECTORS = f"""
SELECT v.chunk_id, vector_send(v.vector) FROM vectors v
JOIN chunks c ON c.chunk_id = v.chunk_id JOIN documents d ON d.document_id = c.document_id
WHERE {LIVE} ORDER BY v.chunk_id
"""
INSERT_FTS = """
INSERT INTO chunks_fts (rowid, tsv)
SELECT p.id, kb_tsv(p.title, p.heading, p.body)
FROM (VALUES (?::bigint, ?::text, ?::text, ?::text)) AS p (id, title, heading, body)
"""
UPDATE_FTS_TITLE = """
UPDATE chunks_fts f SET tsv = kb_tsv(p.title, c.heading, c.text)
FROM (VALUES (?::text, ?::bigint)) AS p (title, id), chunks c
WHERE f.rowid = p.id AND c.chunk_id = p.id
"""

LIST_DOCUMENTS = f"""
SELECT {DOCUMENT_COLUMNS} FROM documents d WHERE {{where}}
ORDER BY d.date DESC NULLS LAST, d.document_id LIMIT :limit OFFSET :offset
"""
# Every short text value of every metadata key (lists unrolled), with its document count.
METADATA_VALUES = """
SELECT j.key, j.value #>> '{{}}', count(*) FROM documents d, jsonb_each(d.meta) j
WHERE {where} AND jsonb_typeof(j.value) = 'string' AND length(j.value #>> '{{}}') <= :longest
GROUP BY j.key, j.value #>> '{{}}'
UNION ALL
SELECT j.key, a.value, count(*)
FROM documents d, jsonb_each(d.meta) j, jsonb_array_elements_text(j.value) a (value)
WHERE {where} AND jsonb_typeof(j.value) = 'array'
  AND length(a.value) <= :longest
GROUP BY j.key, a.value
"""
# jsonb_array_elements_text above reads only arrays: the CASE keeps it from scalars.
METADATA_VALUES = METADATA_VALUES.replace(
    "jsonb_array_elements_text(j.value)",
    "jsonb_array_elements_text(CASE WHEN jsonb_typeof(j.value) = 'array' "
    "THEN j.value ELSE '[]' END)",
)
# The metadata keys a filter may name (kb.metadata.filter_keys).
METADATA_KEYS = "SELECT DISTINCT jsonb_object_keys(d.meta) FROM documents d WHERE {where}"


def postgres_equals(key: str, values: tuple[str, ...], bind: Bind) -> str:
    # A value may be one scalar or a list of them: both are read as a list.
    names = ", ".join(bind(v.casefold()) for v in values)
    field = f"d.meta -> {bind(key)}"
    return (
        "EXISTS (SELECT 1 FROM jsonb_array_elements_text(CASE jsonb_typeof("
        f"{field}) WHEN 'array' THEN {field} ELSE jsonb_build_array({field}) END) j (v) "
        f"WHERE lower(j.v) IN ({names}))"
    )


def postgres_in_range(key: str, op: str, bound: str, bind: Bind) -> str:
    field = f"d.meta -> {bind(key)}"
    try:
        number = float(bound)
    except ValueError:
        return f"({field} #>> '{{}}') {op} {bind(bound)}"
    # A number compares as a number; a numeric string as its number, as SQLite's CAST does.
    return (
        f"(CASE WHEN jsonb_typeof({field}) = 'number' THEN ({field})::float8 "
        f"WHEN ({field} #>> '{{}}') ~ '^\\s*-?[0-9]+(\\.[0-9]*)?\\s*$' "
        f"THEN ({field} #>> '{{}}')::float8 END) {op} {bind(number)}"
    )


# The filters in PostgreSQL (kb.store.sql_filters.build_where): the same filters, the same
# visibility rule as SQLite's.
POSTGRES_FILTERS = FilterDialect("TRUE", postgres_equals, postgres_in_range)


# -- reading packs: the inserts hand back their new ids -------------------------------------

INSERT_PACK = """
INSERT INTO packs (title, audience, objectives, owner, created_at, updated_at)
VALUES (:title, :audience, :objectives, :owner, :now, :now)
RETURNING pack_id
"""
INSERT_ITEM = """
INSERT INTO pack_items (pack_id, position, document_id, chunk_id, note)
VALUES (?, ?, ?, ?, ?)
RETURNING item_id
"""

# -- keyword search ------------------------------------------------------------------------

# ts_rank with the weights {D, C, B, A} (each at most 1): a title word counts double, as in
# the bm25 weights of SQLite's (kb.store.sqlite.sql_keyword).
# :match is a tsquery text (kb.store.postgres.store turns FTS5's expressions into it).
_QUERY = f"to_tsquery('{TEXT_SEARCH}', :match)"
_RANK = f"ts_rank(ARRAY[0.5, 0.5, 0.5, 1.0]::float4[], f.tsv, {_QUERY})"
_MATCHES = f"f.tsv @@ {_QUERY}"
_BOUND = f"""
AND f.rowid >= (SELECT coalesce(min(rowid), 0) FROM (
    SELECT f.rowid FROM chunks_fts f WHERE {_MATCHES} ORDER BY f.rowid DESC LIMIT :budget
) latest)"""
_KEYWORD = f"""
SELECT f.rowid, {_RANK} AS score
FROM chunks_fts f
JOIN chunks c ON c.chunk_id = f.rowid
JOIN documents d ON d.document_id = c.document_id
WHERE {_MATCHES} AND {{where}}{{bound}}
ORDER BY score DESC, f.rowid
LIMIT :limit
"""
KEYWORD_SEARCH = _KEYWORD.format(where="{where}", bound="")
KEYWORD_SEARCH_BOUNDED = _KEYWORD.format(where="{where}", bound=_BOUND)
KEYWORD_RANKED = f"""
SELECT f.rowid, {_RANK} AS score FROM chunks_fts f
WHERE {_MATCHES}{_BOUND}
ORDER BY score DESC, f.rowid
"""
COUNT_MATCHES = f"""
SELECT count(*) FROM (SELECT 1 FROM chunks_fts f WHERE {_MATCHES} LIMIT :cap) found
"""
COUNT_FTS_ROWS = "SELECT count(*) FROM chunks_fts"
# -- facets --------------------------------------------------------------------------------


def _text_facet(key: str) -> str:
    """Documents per text value of a metadata key, one value or a list of them."""
    field = f"d.meta -> '{key}'"
    return f"""
SELECT '{key}', e #>> '{{{{}}}}', count(DISTINCT d.document_id)
FROM documents d, jsonb_array_elements(CASE jsonb_typeof({field})
    WHEN 'array' THEN {field} ELSE jsonb_build_array({field}) END) e
WHERE {{where}} AND jsonb_typeof(e) = 'string' GROUP BY e #>> '{{{{}}}}'"""


FACET_COUNTS = f"""
SELECT 'doc_type', d.doc_type, count(*) FROM documents d WHERE {{where}} GROUP BY d.doc_type
UNION ALL{_text_facet("region")}
UNION ALL
SELECT 'period', substr(d.date, 1, 3) || '0s', count(*) FROM documents d
WHERE {{where}} AND d.date ~ '^[0-9]{{{{4}}}}' GROUP BY substr(d.date, 1, 3)
UNION ALL{_text_facet("stage")}
UNION ALL
SELECT 'classification', d.classification::text, count(*) FROM documents d
WHERE {{where}} GROUP BY d.classification
"""

# -- checks --------------------------------------------------------------------------------

# PostgreSQL keeps its own files whole (WAL, checksums): nothing like SQLite's quick_check.
QUICK_CHECK = "SELECT 'ok'"
VECTORS_OF_WRONG_SIZE = (
    "SELECT chunk_id FROM vectors WHERE vector_dims(vector) * 4 != :bytes ORDER BY chunk_id"
)


# -- original files (kb.store.postgres.originals) ----------------------------------------------

KEEP_ORIGINAL = (
    "INSERT INTO original_files (sha256, bytes) VALUES (?, ?) ON CONFLICT (sha256) DO NOTHING"
)
ORIGINAL_BYTES = "SELECT bytes FROM original_files WHERE sha256 = ?"
HAS_ORIGINAL = "SELECT EXISTS (SELECT 1 FROM original_files WHERE sha256 = ?)"
REMOVE_ORIGINAL = "DELETE FROM original_files WHERE sha256 = ?"
ORIGINAL_HASHES = "SELECT sha256 FROM original_files"

# The keyword index cache's reads, with the groups as PostgreSQL lists them.
KEYWORD_TEXTS = f"""
SELECT c.chunk_id, d.title, c.heading, c.text, d.classification, {GROUPS.format("d")}
FROM chunks c JOIN documents d ON d.document_id = c.document_id
WHERE c.chunk_id IN ({{marks}}) AND d.deleted_at IS NULL
"""
KEYWORD_ALL_TEXTS = f"""
SELECT c.chunk_id, d.title, c.heading, c.text, d.classification, {GROUPS.format("d")}
FROM chunks c JOIN documents d ON d.document_id = c.document_id
WHERE c.chunk_id > :after AND d.deleted_at IS NULL ORDER BY c.chunk_id LIMIT :batch
"""
LIVE_MARKINGS = f"""
SELECT DISTINCT d.classification, {GROUPS.format("d")} FROM documents d
WHERE d.deleted_at IS NULL
"""

# Ids taken but for case (kb.look_alikes): ASCII letters folded only, as SQLite's lower().
CASE_VARIANTS = (
    'SELECT document_id FROM documents WHERE lower(document_id COLLATE "C") IN ({marks})'
)
