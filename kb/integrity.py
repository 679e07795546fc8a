"""Consistency checks of a SQLite store: every document whole, chunks, vectors and FTS agreeing.

`kb check` runs them (with the FAISS comparison in `KnowledgeBase.check`); the crash tests use
them to prove a killed ingest left nothing half written.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from kb import sql_checks

SHOWN = 5  # keys named per problem; the count says how many there are

# (query, what its rows are): each query returns the keys that break one invariant.
CHECKS: tuple[tuple[str, str], ...] = (
    (sql_checks.DOCUMENTS_WITHOUT_CHUNKS, "documents without passages"),
    (sql_checks.DOCUMENTS_WITH_ORDINAL_GAPS, "documents with passages missing"),
    (sql_checks.CHUNKS_WITHOUT_VECTORS, "passages without a vector"),
    (sql_checks.VECTORS_WITHOUT_CHUNKS, "vectors without a passage"),
    (sql_checks.CHUNKS_WITHOUT_FTS, "passages missing from the keyword index"),
    (sql_checks.FTS_WITHOUT_CHUNKS, "keyword index rows without a passage"),
)


def store_problems(db: sqlite3.Connection, dimension: int | None) -> list[str]:
    """What is wrong with the store behind this connection; empty when nothing is.

    Args:
        dimension: the store's vector dimension, to check every stored vector's size.
    """
    verdict = [str(row[0]) for row in db.execute(sql_checks.QUICK_CHECK)]
    if verdict != ["ok"]:
        # The other checks may fail or mislead on a damaged file.
        return [f"SQLite integrity check failed: {'; '.join(verdict[:SHOWN])}"]
    problems = []
    for query, what in CHECKS:
        keys = [row[0] for row in db.execute(query)]
        if keys:
            problems.append(describe(what, keys))
    if dimension:
        keys = [
            row[0] for row in db.execute(sql_checks.VECTORS_OF_WRONG_SIZE, {"bytes": 4 * dimension})
        ]
        if keys:
            problems.append(describe(f"vectors not of dimension {dimension}", keys))
    return problems


def describe(what: str, keys: Sequence[object]) -> str:
    shown = ", ".join(str(k) for k in keys[:SHOWN])
    more = f" and {len(keys) - SHOWN} more" if len(keys) > SHOWN else ""
    return f"{len(keys)} {what}: {shown}{more}"
