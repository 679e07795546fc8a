"""SQL of facet counts: how many of the documents a filter (and its viewer) passes have each
value of type, region, period, stage and classification, in SQLite's JSON functions."""

from __future__ import annotations

# One statement, so every facet counts the same snapshot. {where} is
# kb.store.sqlite.sql.build_where over
# `documents d` (visibility included), its parameters named, so repeating it is safe.
# A metadata value may be one text or a list of them: json_each yields either.
FACET_COUNTS = """
SELECT 'doc_type', d.doc_type, count(*) FROM documents d WHERE {where} GROUP BY d.doc_type
UNION ALL
SELECT 'region', j.value, count(DISTINCT d.document_id)
FROM documents d, json_each(d.metadata, '$.region') j
WHERE {where} AND j.type = 'text' GROUP BY j.value
UNION ALL
SELECT 'period', substr(d.date, 1, 3) || '0s', count(*) FROM documents d
WHERE {where} AND d.date GLOB '[0-9][0-9][0-9][0-9]*' GROUP BY substr(d.date, 1, 3)
UNION ALL
SELECT 'stage', j.value, count(DISTINCT d.document_id)
FROM documents d, json_each(d.metadata, '$.stage') j
WHERE {where} AND j.type = 'text' GROUP BY j.value
UNION ALL
SELECT 'classification', CAST(d.classification AS TEXT), count(*) FROM documents d
WHERE {where} GROUP BY d.classification
"""
