"""SQL of keyword search: the scored FTS5 queries and the counts that choose their words."""

from __future__ import annotations

# bm25() weights follow the column order (title, heading, text): a title hit counts double.
# Chosen on SciFact train and pax-dev among (1,1,1), (2,1,1), (3,1.5,1), (5,1.5,1), (3,0.5,1).
WEIGHTS = "2.0, 1.0, 1.0"

# `rank` set to bm25 in the MATCH lets FTS5 hand rows over best first (EXPLAIN QUERY PLAN
# shows no temp B-tree), so the joins, the filters and the access check run only for the rows
# read before LIMIT is met. FTS5 still scores every matching row: the words searched must be
# few and selective (kb.keywords.selectivity chooses them).
_KEYWORD = f"""
SELECT f.rowid, -f.rank AS score
FROM chunks_fts f
JOIN chunks c ON c.chunk_id = f.rowid
JOIN documents d ON d.document_id = c.document_id
WHERE chunks_fts MATCH :match AND f.rank MATCH 'bm25({WEIGHTS})' AND {{where}}{{bound}}
ORDER BY f.rank
LIMIT :limit
"""
# Scoring no more than :budget matching passages, the latest added: the inner query walks
# rowids only (cheap), the outer scores from the :budget-th newest match on. BM25 costs a
# microsecond or two a row, so this bounds the query whatever the words.
_BOUND = """
AND f.rowid >= (SELECT min(rowid) FROM (
    SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH :match ORDER BY rowid DESC LIMIT :budget
))"""
KEYWORD_SEARCH = _KEYWORD.format(where="{where}", bound="")
KEYWORD_SEARCH_BOUNDED = _KEYWORD.format(where="{where}", bound=_BOUND)
# Every passage the bounded search scores, best first, from the FTS index alone: a search
# whose filter set is at hand (kb.store.allowed) keeps the allowed ones itself instead of joining
# each row to its document and filtering it in SQL (metadata filters call back into Python
# for every row they test). bm25() sits in the select list and SQLite sorts: FTS5's own
# `ORDER BY rank` seeks every row it hands over again in each word's passage list (at a
# million passages, all 5,000 rows of a 12-word brief: 23 ms this way, 48 ms by rank).
KEYWORD_RANKED = f"""
SELECT f.rowid, -bm25(chunks_fts, {WEIGHTS}) AS score FROM chunks_fts f
WHERE chunks_fts MATCH :match{_BOUND}
ORDER BY score DESC, f.rowid
"""

# Passages matching one expression, counted only up to :cap: with no ORDER BY, FTS5 streams
# the rowids, so a very common word stops at the cap instead of walking its whole list.
# (fts5vocab would give the count of a stemmed token, but only after walking the whole list,
# and the query's words would need our own copy of the porter stemmer.)
COUNT_MATCHES = """
SELECT count(*) FROM (SELECT 1 FROM chunks_fts WHERE chunks_fts MATCH :match LIMIT :cap)
"""
# Rows of the FTS index, from its per-row size table: a b-tree count, no text read.
COUNT_FTS_ROWS = "SELECT count(*) FROM chunks_fts_docsize"

# With each passage, its document's marking: the index keeps one part per marking.
_GROUPS = (
    "(SELECT json_group_array(g.group_name) FROM "
    "(SELECT group_name FROM document_groups WHERE document_id = d.document_id "
    "ORDER BY group_name) g)"
)
KEYWORD_TEXTS = f"""
SELECT c.chunk_id, d.title, c.heading, c.text, d.classification, {_GROUPS} FROM chunks c
JOIN documents d ON d.document_id = c.document_id
WHERE c.chunk_id IN ({{marks}}) AND d.deleted_at IS NULL
"""
KEYWORD_ALL_TEXTS = f"""
SELECT c.chunk_id, d.title, c.heading, c.text, d.classification, {_GROUPS} FROM chunks c
JOIN documents d ON d.document_id = c.document_id
WHERE c.chunk_id > :after AND d.deleted_at IS NULL ORDER BY c.chunk_id LIMIT :batch
"""
# The markings live documents carry: each is a part of the keyword index.
LIVE_MARKINGS = f"""
SELECT DISTINCT d.classification, {_GROUPS} FROM documents d WHERE d.deleted_at IS NULL
"""

# What the keyword index cache (kb.keywords.index) must re-read: every passage added or
# removed, and every passage of a document retitled, trashed or restored, in commit order. Triggers
# write it in the same transaction as the change, whichever code or process makes it, and
# FK cascades fire them too. Seeded with the passages already stored.
M008_KEYWORD_LOG = """
CREATE TABLE keyword_log (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    chunk_id INTEGER NOT NULL
);
INSERT INTO keyword_log (chunk_id) SELECT chunk_id FROM chunks ORDER BY chunk_id;
CREATE TRIGGER keyword_log_insert AFTER INSERT ON chunks
BEGIN INSERT INTO keyword_log (chunk_id) VALUES (new.chunk_id); END;
CREATE TRIGGER keyword_log_delete AFTER DELETE ON chunks
BEGIN INSERT INTO keyword_log (chunk_id) VALUES (old.chunk_id); END;
CREATE TRIGGER keyword_log_text AFTER UPDATE OF text, heading ON chunks
BEGIN INSERT INTO keyword_log (chunk_id) VALUES (new.chunk_id); END;
CREATE TRIGGER keyword_log_document AFTER UPDATE OF title, deleted_at ON documents
WHEN old.title IS NOT new.title OR old.deleted_at IS NOT new.deleted_at
BEGIN
    INSERT INTO keyword_log (chunk_id)
    SELECT chunk_id FROM chunks WHERE document_id = new.document_id ORDER BY chunk_id;
END;
"""
# A document's marking decides which part of the keyword index holds its passages (each part
# scores with its own statistics, so no reader's scores count what they may not see): a change
# of classification or groups moves them, and is logged as any other change.
M013_KEYWORD_MARKINGS = """
CREATE TRIGGER keyword_log_classification AFTER UPDATE OF classification ON documents
WHEN old.classification IS NOT new.classification
BEGIN
    INSERT INTO keyword_log (chunk_id)
    SELECT chunk_id FROM chunks WHERE document_id = new.document_id ORDER BY chunk_id;
END;
CREATE TRIGGER keyword_log_group_added AFTER INSERT ON document_groups
BEGIN
    INSERT INTO keyword_log (chunk_id)
    SELECT chunk_id FROM chunks WHERE document_id = new.document_id ORDER BY chunk_id;
END;
CREATE TRIGGER keyword_log_group_removed AFTER DELETE ON document_groups
BEGIN
    INSERT INTO keyword_log (chunk_id)
    SELECT chunk_id FROM chunks WHERE document_id = old.document_id ORDER BY chunk_id;
END;
"""
