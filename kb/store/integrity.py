"""Consistency checks of a store: every document whole, chunks, vectors and the keyword index
agreeing. The statements are `kb.store.sql_common`'s, and the dialect's own for the two that
each engine says its way (`kb.store.dialect.CheckStatements`).

`kb check` runs them (with the FAISS comparison in `KnowledgeBase.check`); the crash tests use
them to prove a killed ingest left nothing half written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from kb.store import sql_common as common
from kb.store.dialect import CheckStatements

SHOWN = 5  # keys named per problem; the count says how many there are

# (the statement, what its rows are): each returns the keys that break one invariant.
CHECKS: tuple[tuple[str, str], ...] = (
    (common.DOCUMENTS_WITHOUT_CHUNKS, "documents without passages"),
    (common.DOCUMENTS_WITH_ORDINAL_GAPS, "documents with passages missing"),
    (common.CHUNKS_WITHOUT_VECTORS, "passages without a vector"),
    (common.VECTORS_WITHOUT_CHUNKS, "vectors without a passage"),
    (common.CHUNKS_WITHOUT_FTS, "passages missing from the keyword index"),
    (common.FTS_WITHOUT_CHUNKS, "keyword index rows without a passage"),
)


def store_problems(
    run: Callable[[str, Any], Any], dimension: int | None, statements: CheckStatements
) -> list[str]:
    """What is wrong with the store; empty when nothing is.

    Args:
        run: runs one statement with its parameters on the store (the dialect's placeholders
            taken care of), returning its rows.
        dimension: the store's vector dimension, to check every stored vector's size.
        statements: the dialect's own checks.
    """
    verdict = [str(row[0]) for row in run(statements.QUICK_CHECK, ())]
    if verdict != ["ok"]:
        # The other checks may fail or mislead on a damaged file.
        return [f"SQLite integrity check failed: {'; '.join(verdict[:SHOWN])}"]
    problems = []
    for statement, what in CHECKS:
        keys = [row[0] for row in run(statement, ())]
        if keys:
            problems.append(describe(what, keys))
    if dimension:
        wrong = run(statements.VECTORS_OF_WRONG_SIZE, {"bytes": 4 * dimension})
        keys = [row[0] for row in wrong]
        if keys:
            problems.append(describe(f"vectors not of dimension {dimension}", keys))
    return problems


def describe(what: str, keys: Sequence[object]) -> str:
    shown = ", ".join(str(k) for k in keys[:SHOWN])
    more = f" and {len(keys) - SHOWN} more" if len(keys) > SHOWN else ""
    return f"{len(keys)} {what}: {shown}{more}"
