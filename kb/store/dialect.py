"""What a SQL engine must provide for the store's logic (`kb.store.sql_store`) to run on it.

A dialect is a leaf (`kb.store.sqlite.dialect`, `kb.store.postgres.dialect`): its connections,
its schema and migrations, how it takes parameters, and the statements it says its own way.
Statements both engines say alike are in `kb.store.sql_common`, once. The statement groups
below are Protocols that each dialect's statements modules satisfy as modules: a statement a
dialect lacks, or a builder of the wrong shape, is a mypy error where the dialect names its
modules, not an AttributeError at run time.

Placeholders: every statement is written in one neutral style (`?`, `:name`) and the store's
logic passes each through `Dialect.prepare` before it runs it, so how an engine takes
parameters is declared here, and the connections stay the drivers' own (no rewriting hidden
in a wrapper).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

from kb.models import Filters
from kb.store.original_files import OriginalFiles
from kb.store.protocol import Ids, Vectors


class Cursor(Protocol):
    """What the logic reads of a statement's result (sqlite3's and psycopg's cursors alike)."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """One connection in autocommit mode: the store runs BEGIN ... COMMIT itself."""

    def execute(self, statement: str, params: Any = ..., /) -> Any: ...

    def executemany(self, statement: str, params: Any, /) -> Any: ...

    def close(self) -> None: ...


# -- the statements each dialect says its own way ---------------------------------------------


class CoreStatements(Protocol):
    """Documents, passages, vectors and the keyword rows written with them."""

    @property
    def GET_DOCUMENT(self) -> str: ...
    @property
    def FINGERPRINTS_BY_ID(self) -> str: ...
    @property
    def DOCUMENTS_BY_ID(self) -> str: ...
    @property
    def CASE_VARIANTS(self) -> str: ...
    @property
    def INSERT_GROUP(self) -> str: ...
    @property
    def INSERT_CHUNK(self) -> str: ...
    @property
    def INSERT_VECTOR(self) -> str: ...
    @property
    def UPDATE_VECTOR(self) -> str: ...
    @property
    def VECTORS_BY_ID(self) -> str: ...
    @property
    def ALL_VECTORS(self) -> str: ...
    @property
    def INSERT_FTS(self) -> str: ...
    @property
    def UPDATE_FTS_TITLE(self) -> str: ...
    @property
    def LIST_DOCUMENTS(self) -> str: ...
    @property
    def METADATA_VALUES(self) -> str: ...
    @property
    def METADATA_KEYS(self) -> str: ...


class HistoryStatements(Protocol):
    """The trash, versions and the audit log."""

    @property
    def TRASH(self) -> str: ...
    @property
    def BURY(self) -> str: ...
    @property
    def SNAPSHOT_VERSION(self) -> str: ...
    @property
    def VERSIONS_OF(self) -> str: ...
    @property
    def VERSION_ONE(self) -> str: ...
    @property
    def FIELDS_BY_ID(self) -> str: ...

    def audit_where(
        self, document_id: str | None, action: str | None, actor: str | None, since: str | None
    ) -> tuple[str, dict[str, Any]]: ...

    def audit_visibility(self, seen: str, rank: str, groups: str) -> str: ...


class PackStatements(Protocol):
    """Reading packs: the inserts that hand back their new ids."""

    @property
    def INSERT_PACK(self) -> str: ...
    @property
    def INSERT_ITEM(self) -> str: ...


class KeywordStatements(Protocol):
    """Keyword search and the keyword index cache's reads."""

    @property
    def KEYWORD_SEARCH(self) -> str: ...
    @property
    def KEYWORD_SEARCH_BOUNDED(self) -> str: ...
    @property
    def KEYWORD_RANKED(self) -> str: ...
    @property
    def COUNT_MATCHES(self) -> str: ...
    @property
    def COUNT_FTS_ROWS(self) -> str: ...
    @property
    def KEYWORD_TEXTS(self) -> str: ...
    @property
    def KEYWORD_ALL_TEXTS(self) -> str: ...
    @property
    def LIVE_MARKINGS(self) -> str: ...


class FacetStatements(Protocol):
    @property
    def FACET_COUNTS(self) -> str: ...


class CheckStatements(Protocol):
    """The checks an engine runs its own way (the others are in `kb.store.sql_common`)."""

    @property
    def QUICK_CHECK(self) -> str: ...
    @property
    def VECTORS_OF_WRONG_SIZE(self) -> str: ...


class JobStatements(Protocol):
    @property
    def CLAIM_JOB(self) -> str: ...


# -- the dialect -------------------------------------------------------------------------------


class Dialect(Protocol):
    """One SQL engine, as the store's logic uses it."""

    @property
    def core(self) -> CoreStatements: ...
    @property
    def history(self) -> HistoryStatements: ...
    @property
    def packs(self) -> PackStatements: ...
    @property
    def keyword(self) -> KeywordStatements: ...
    @property
    def facets(self) -> FacetStatements: ...
    @property
    def checks(self) -> CheckStatements: ...
    @property
    def jobs(self) -> JobStatements: ...

    @property
    def begin(self) -> tuple[str, ...]:
        """The statements that open a write transaction (one writer at a time)."""
        ...

    @property
    def integrity_errors(self) -> tuple[type[Exception], ...]:
        """The driver's errors for a broken constraint (a name taken twice)."""
        ...

    def open(self) -> Connection:
        """The writer's connection, the store's schema migrated to this program's version."""
        ...

    def open_reader(self) -> Connection:
        """A connection that reads committed rows beside the writer."""
        ...

    def open_originals(self, folder: Path) -> OriginalFiles:
        """Where the original files are kept (`folder`: this machine's part of the store)."""
        ...

    def prepare(self, statement: str) -> str:
        """The statement as the driver takes it (from the neutral `?` and `:name`)."""
        ...

    def bump_generation(self, db: Connection) -> int:
        """The next generation, stored; called inside a write transaction, on the writer."""
        ...

    def build_where(self, filters: Filters, live: bool | None = True) -> tuple[str, dict[str, Any]]:
        """The filters (and their viewer) as a clause over `documents d`, with its parameters."""
        ...

    def vector_param(self, vector: Vectors) -> Any:
        """A vector as a parameter of INSERT_VECTOR and UPDATE_VECTOR."""
        ...

    def unpack(self, rows: Sequence[Any]) -> tuple[Ids, Vectors]:
        """(chunk_id, vector) rows as read by VECTORS_BY_ID and ALL_VECTORS, as arrays."""
        ...

    def inserted_id(self, cursor: Any) -> int:
        """The id INSERT_CHUNK, INSERT_PACK or INSERT_ITEM just gave its row."""
        ...

    def match(self, expression: str) -> str:
        """A keyword expression (FTS5's, as kb.keywords.query builds it) as the keyword
        statements take it."""
        ...
