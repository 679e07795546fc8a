"""The knowledge base is a facade over services it holds, not a stack of mixins: no base class,
no stub that some other base is supposed to fill in, and each door documented."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from kb.knowledge_base import KnowledgeBase

KB = Path(__file__).resolve().parents[2] / "kb"

# What api/, ingest/ and the checks outside the repository call: one lost is a broken caller.
PUBLIC = {
    "add",
    "add_all_to_pack",
    "add_to_pack",
    "audit",
    "check",
    "check_notes",
    "chunks",
    "close",
    "create_pack",
    "delete",
    "delete_pack",
    "dimension",
    "duplicate_pack",
    "edit",
    "edit_pack",
    "edit_pack_item",
    "facets",
    "get_document",
    "index",
    "index_recall",
    "list_documents",
    "list_packs",
    "missing",
    "move_pack_item",
    "near_duplicates",
    "original",
    "orphan_originals",
    "pack",
    "pack_contents",
    "packs",
    "purge",
    "purge_after",
    "purge_expired",
    "reindex",
    "relate",
    "relations",
    "remove_from_pack",
    "reorder_pack",
    "restore",
    "search",
    "search_batch",
    "similar",
    "stats",
    "suggest_pack",
    "trash",
    "unrelate",
    "update_keyword_index",
    "version",
    "version_original",
    "versions",
    "writing",
}


def public_members() -> dict[str, object]:
    return {
        name: member
        for name, member in vars(KnowledgeBase).items()
        if not name.startswith("_") and (callable(member) or isinstance(member, property))
    }


def test_the_knowledge_base_has_no_base_class() -> None:
    assert KnowledgeBase.__bases__ == (object,)


def test_the_knowledge_base_keeps_every_public_method_itself() -> None:
    assert set(public_members()) == PUBLIC


def test_every_public_method_of_the_knowledge_base_has_a_docstring() -> None:
    undocumented = [name for name, member in public_members().items() if not inspect.getdoc(member)]
    assert undocumented == []


def raised_not_implemented(path: Path) -> list[int]:
    """Lines of `raise NotImplementedError` (bare or called) in one module."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Raise) and node.exc is not None:
            raised = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(raised, ast.Name) and raised.id == "NotImplementedError":
                lines.append(node.lineno)
    return lines


def test_no_module_of_the_core_leaves_a_stub_for_another_to_fill() -> None:
    stubs = {
        str(path.relative_to(KB.parent)): lines
        for path in sorted(KB.rglob("*.py"))
        if (lines := raised_not_implemented(path))
    }
    assert stubs == {}
