"""One store's logic, one dialect per engine: no engine borrows another's, and one place
chooses the engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.settings import Settings
from kb.store.backends import choose_dialect, open_connection
from kb.store.dialect import Dialect
from kb.store.postgres.dialect import PostgresDialect
from kb.store.postgres.store import PostgresStore
from kb.store.sql_store import SQLStore
from kb.store.sqlite.dialect import SQLiteDialect
from kb.store.sqlite.store import SQLiteStore
from tests.test_layering import MODULES, imports_of, under

LEAVES = ("kb.store.sqlite", "kb.store.postgres")
# Modules whose work is one engine by nature: the backup API is SQLite's, and `kb migrate`
# moves a SQLite store into PostgreSQL.
ONE_ENGINE_BY_NATURE = ("kb.backup", "kb.transfer")


def test_only_the_backends_module_names_an_engine() -> None:
    naming = [
        f"{name} imports {module}"
        for name in MODULES
        if under(name, "kb")
        and name != "kb.store.backends"
        and name not in ONE_ENGINE_BY_NATURE
        and not any(under(name, leaf) for leaf in LEAVES)
        for module in sorted(imports_of(name))
        if any(under(module, leaf) for leaf in LEAVES)
    ]
    assert not naming, "\n".join(naming)


def test_each_engine_inherits_only_the_neutral_store() -> None:
    for store in (SQLiteStore, PostgresStore):
        assert store.__mro__[1] is SQLStore
    assert not issubclass(PostgresStore, SQLiteStore)
    assert not issubclass(SQLiteStore, PostgresStore)
    for dialect in (SQLiteDialect, PostgresDialect):
        assert dialect.__mro__ == (dialect, object)


def test_the_settings_choose_the_engine(tmp_path: Path) -> None:
    assert isinstance(choose_dialect(Settings(store=tmp_path)), SQLiteDialect)
    url = "postgresql://kb@localhost/kb"
    chosen = choose_dialect(Settings(store=tmp_path, database_url=url))
    assert isinstance(chosen, PostgresDialect)
    assert chosen.url == url


@pytest.mark.backends
def test_a_statement_in_the_neutral_style_runs_as_its_dialect_prepares_it(
    settings: Settings, backend: str
) -> None:
    dialect: Dialect
    dialect, db = open_connection(settings)
    try:
        assert type(dialect) is {"sqlite": SQLiteDialect, "postgres": PostgresDialect}[backend]
        positional = dialect.prepare("SELECT CAST(? AS INTEGER) + 1, '100%'")
        named = dialect.prepare("SELECT CAST(:n AS INTEGER) * 2")
        assert tuple(db.execute(positional, (41,)).fetchone()) == (42, "100%")
        assert tuple(db.execute(named, {"n": 21}).fetchone()) == (42,)
    finally:
        db.close()
