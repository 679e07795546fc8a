"""The house's layout, checked: three floors (kb, then ingest, then api), rooms inside `kb/`
that import only what their place allows, by module prefix, and no import circle anywhere.

Every import counts, deferred ones inside functions too: a circle hidden in a function is
still a circle. Imports of a package's re-exported name (`from kb import KnowledgeBase`)
count as imports of the module that defines it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FLOORS = ("kb", "ingest", "api")

# (who, what they may not import, except): prefixes of dotted module names. A prefix `p`
# covers `p` itself and every `p.*`.
RULES: list[tuple[str, str, tuple[str, ...]]] = [
    ("kb", "ingest", ()),
    ("kb", "api", ()),
    ("ingest", "api", ()),
    # Above the core, the store is its protocol: which engine holds the rows is the store's
    # business alone.
    ("ingest", "kb.store", ("kb.store.protocol",)),
    ("api", "kb.store", ("kb.store.protocol",)),
    ("api", "kb.vectors", ()),
    ("api", "kb.keywords", ()),
    ("api", "sqlite3", ()),
    ("api", "faiss", ()),
    ("api", "psycopg", ()),
    ("ingest", "faiss", ()),
    # The store knows nothing of what is built on it.
    ("kb.store", "kb.search", ()),
    ("kb.store", "kb.keywords", ()),
    ("kb.store", "kb.vectors", ()),
    ("kb.store", "kb.embedding", ()),
    ("kb.store", "kb.packs", ()),
    ("kb.store", "kb.knowledge_base", ()),
    # Each dialect is a leaf: neither reads the other.
    ("kb.store.sqlite", "kb.store.postgres", ()),
    ("kb.store.postgres", "kb.store.sqlite", ()),
    # The caches and the model know nothing of ranking or packs.
    ("kb.vectors", "kb.search", ()),
    ("kb.vectors", "kb.packs", ()),
    ("kb.keywords", "kb.search", ()),
    ("kb.keywords", "kb.packs", ()),
    ("kb.embedding", "kb.search", ()),
    ("kb.embedding", "kb.packs", ()),
    ("kb.embedding", "kb.vectors", ()),
    ("kb.search", "kb.packs", ()),
    # What evaluators do to documents is built on the store, the caches and the model; none
    # of them knows it.
    ("kb.store", "kb.documents", ()),
    ("kb.search", "kb.documents", ()),
    ("kb.keywords", "kb.documents", ()),
    ("kb.vectors", "kb.documents", ()),
    ("kb.embedding", "kb.documents", ()),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {
        module_name(path): path for floor in FLOORS for path in sorted((ROOT / floor).rglob("*.py"))
    }


MODULES = modules()


def is_package(name: str) -> bool:
    return MODULES.get(name, Path()).name == "__init__.py"


def raw_imports(name: str) -> Iterator[tuple[str, str | None]]:
    """(module, name imported from it or None) for every import statement in the module."""
    path = MODULES[name]
    package = name if is_package(name) else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                yield base, alias.name


@cache
def reexports(package: str) -> dict[str, str]:
    """Names a package's `__init__` takes from its modules: name -> defining module."""
    found = {}
    for module, imported in raw_imports(package):
        if imported is not None and module in MODULES:
            found[imported] = module
    return found


@cache
def imports_of(name: str) -> set[str]:
    """Every module of ours (or outside name) this module imports, names resolved to modules."""
    found: set[str] = set()
    for module, imported in raw_imports(name):
        if imported is not None and f"{module}.{imported}" in MODULES:
            found.add(f"{module}.{imported}")
        elif imported is not None and is_package(module) and imported in reexports(module):
            found.add(reexports(module)[imported])
        else:
            found.add(module)
    return found


def under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


@pytest.mark.parametrize(("who", "what", "unless"), RULES, ids=[f"{r[0]}-x-{r[1]}" for r in RULES])
def test_no_module_imports_what_its_place_forbids(
    who: str, what: str, unless: tuple[str, ...]
) -> None:
    broken = [
        f"{name} imports {module}"
        for name in MODULES
        if under(name, who)
        for module in sorted(imports_of(name))
        if under(module, what) and not any(under(module, ok) for ok in unless)
    ]
    assert not broken, "\n".join(broken)


def test_no_import_circle() -> None:
    # Tarjan's strongly connected components over our own modules (package __init__s that
    # only re-export are left out: a re-export is followed to its module instead).
    graph = {
        name: {m for m in imports_of(name) if m in MODULES and not is_package(m)}
        for name in MODULES
        if not is_package(name)
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    assert not circles, circles


def test_the_checker_sees_deferred_imports_and_reexports() -> None:
    # The rules would pass vacuously if the walk missed what it looks for.
    assert "kb.knowledge_base" in imports_of("kb")
    assert any(under(m, "kb.store") for m in imports_of("kb.knowledge_base"))
    assert "kb.errors" in imports_of("ingest.sandbox")


def test_every_package_says_what_it_holds() -> None:
    for path in MODULES.values():
        if path.name == "__init__.py":
            doc = ast.get_docstring(ast.parse(path.read_text()))
            assert doc, f"{path} has no docstring saying what the package holds"


def test_all_lists_exactly_the_public_names() -> None:
    import kb
    import kb.errors

    assert all(hasattr(kb, name) for name in kb.__all__)
    errors = {
        n for n, v in vars(kb.errors).items() if isinstance(v, type) and issubclass(v, Exception)
    }
    assert errors == set(kb.errors.__all__)
