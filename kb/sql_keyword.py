"""SQL of keyword search: the ranked FTS5 query and the counts that choose its words."""

from __future__ import annotations

# `rank` set to bm25 with column weights in the MATCH lets FTS5 hand rows over best first
# (EXPLAIN QUERY PLAN shows no temp B-tree), so the joins, the filters and the access check
# run only for the rows read before LIMIT is met, not for every match as with
# ORDER BY bm25(...). FTS5 still scores every matching row: the words searched must be few
# and selective (kb.selectivity chooses them).
# bm25() weights follow the column order (title, heading, text): a title hit counts double.
# Chosen on SciFact train and pax-dev among (1,1,1), (2,1,1), (3,1.5,1), (5,1.5,1), (3,0.5,1).
RANK = "bm25(2.0, 1.0, 1.0)"
_KEYWORD = """
SELECT f.rowid, -f.rank AS score
FROM chunks_fts f
JOIN chunks c ON c.chunk_id = f.rowid
JOIN documents d ON d.document_id = c.document_id
WHERE chunks_fts MATCH :match AND f.rank MATCH '{rank}' AND {{where}}{bound}
ORDER BY f.rank
LIMIT :limit
"""
KEYWORD_SEARCH = _KEYWORD.format(rank=RANK, bound="")
# The same, scoring no more than :budget matching passages, the latest added: the inner query
# walks rowids only (cheap), the outer scores from the :budget-th newest match on. BM25 costs
# a few microseconds a row, so this bounds the query whatever the words.
KEYWORD_SEARCH_BOUNDED = _KEYWORD.format(
    rank=RANK,
    bound="""
AND f.rowid >= (SELECT min(rowid) FROM (
    SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH :match ORDER BY rowid DESC LIMIT :budget
))""",
)

# Passages matching one expression, counted only up to :cap: with no ORDER BY, FTS5 streams
# the rowids, so a very common word stops at the cap instead of walking its whole list.
# (fts5vocab would give the count of a stemmed token, but only after walking the whole list,
# and the query's words would need our own copy of the porter stemmer.)
COUNT_MATCHES = """
SELECT count(*) FROM (SELECT 1 FROM chunks_fts WHERE chunks_fts MATCH :match LIMIT :cap)
"""
# Rows of the FTS index, from its per-row size table: a b-tree count, no text read.
COUNT_FTS_ROWS = "SELECT count(*) FROM chunks_fts_docsize"
