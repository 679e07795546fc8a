"""Consistency checks of a store: every document whole, chunks, vectors and the keyword index
agreeing. The statements come from the backend's module (`kb.store.sqlite.sql_checks` for SQLite).

`kb check` runs them (with the FAISS comparison in `KnowledgeBase.check`); the crash tests use
them to prove a killed ingest left nothing half written.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import Any

from kb.store.sqlite import sql_checks

SHOWN = 5  # keys named per problem; the count says how many there are

# (the statement's name, what its rows are): each returns the keys that break one invariant.
CHECKS: tuple[tuple[str, str], ...] = (
    ("DOCUMENTS_WITHOUT_CHUNKS", "documents without passages"),
    ("DOCUMENTS_WITH_ORDINAL_GAPS", "documents with passages missing"),
    ("CHUNKS_WITHOUT_VECTORS", "passages without a vector"),
    ("VECTORS_WITHOUT_CHUNKS", "vectors without a passage"),
    ("CHUNKS_WITHOUT_FTS", "passages missing from the keyword index"),
    ("FTS_WITHOUT_CHUNKS", "keyword index rows without a passage"),
)


def store_problems(
    db: Any, dimension: int | None, statements: ModuleType = sql_checks
) -> list[str]:
    """What is wrong with the store behind this connection; empty when nothing is.

    Args:
        dimension: the store's vector dimension, to check every stored vector's size.
        statements: the backend's checks, named as in `kb.store.sqlite.sql_checks`.
    """
    verdict = [str(row[0]) for row in db.execute(statements.QUICK_CHECK)]
    if verdict != ["ok"]:
        # The other checks may fail or mislead on a damaged file.
        return [f"SQLite integrity check failed: {'; '.join(verdict[:SHOWN])}"]
    problems = []
    for name, what in CHECKS:
        keys = [row[0] for row in db.execute(getattr(statements, name))]
        if keys:
            problems.append(describe(what, keys))
    if dimension:
        wrong = db.execute(statements.VECTORS_OF_WRONG_SIZE, {"bytes": 4 * dimension})
        keys = [row[0] for row in wrong]
        if keys:
            problems.append(describe(f"vectors not of dimension {dimension}", keys))
    return problems


def describe(what: str, keys: Sequence[object]) -> str:
    shown = ", ".join(str(k) for k in keys[:SHOWN])
    more = f" and {len(keys) - SHOWN} more" if len(keys) > SHOWN else ""
    return f"{len(keys)} {what}: {shown}{more}"
