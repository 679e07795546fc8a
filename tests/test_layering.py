"""The three floors: kb imports nothing above it, ingest nothing from api; no cycles of two."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {"kb": {"ingest", "api"}, "ingest": {"api"}, "api": set()}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_import_runs_upward(package: str) -> None:
    for path in (ROOT / package).rglob("*.py"):
        for module in imports_of(path):
            assert module.split(".")[0] not in FORBIDDEN[package], f"{path} imports {module}"


def test_api_never_touches_sql_or_faiss() -> None:
    for path in (ROOT / "api").rglob("*.py"):
        modules = {m.split(".")[0] for m in imports_of(path)} | imports_of(path)
        assert (
            not {
                "sqlite3",
                "faiss",
                "kb.sql",
                "kb.sql_history",
                "kb.sql_users",
                "kb.sqlite_store",
                "kb.index",
            }
            & modules
        ), path


def test_all_lists_exactly_the_public_names() -> None:
    import kb
    import kb.errors

    assert all(hasattr(kb, name) for name in kb.__all__)
    errors = {
        n for n, v in vars(kb.errors).items() if isinstance(v, type) and issubclass(v, Exception)
    }
    assert errors == set(kb.errors.__all__)
