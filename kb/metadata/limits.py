"""How large a document's metadata may be: its depth, its keys and its bytes.

Metadata is free JSON, read on every search, listing and audit page. Unbounded, one document
with values nested hundreds of levels deep broke every read that showed it (serialisers
recurse), and kept breaking the audit log after the key was removed. So metadata is checked
before anything is written, and rows stored before these bounds are shown cut at the depth
limit rather than failing. The walks here are iterative: a hostile value cannot exhaust the
stack while it is being measured.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from kb.errors import FieldProblem, InvalidMetadataError

MAX_DEPTH = 8  # the metadata object itself is level 1: {"a": {"b": [1]}} is 3 deep
MAX_KEYS = 1_000  # object keys at every level together
MAX_BYTES = 256 * 1024  # its JSON, UTF-8
CUT = "(nested too deep to show)"


def check_metadata(metadata: Mapping[str, Any]) -> None:
    """Refuse metadata past the bounds, naming the field (InvalidMetadataError: a 422)."""
    problems: list[FieldProblem] = []
    keys = len(metadata)
    for name, value in metadata.items():
        depth, inner = _measure(value)
        keys += inner
        if depth + 1 > MAX_DEPTH:
            problems.append(
                FieldProblem(name, f"nests deeper than metadata may ({MAX_DEPTH} levels in all)")
            )
    if keys > MAX_KEYS:
        problems.append(
            FieldProblem("metadata", f"has {keys} keys in all; at most {MAX_KEYS} are allowed")
        )
    if not problems:
        size = len(json.dumps(metadata, ensure_ascii=False).encode())
        if size > MAX_BYTES:
            problems.append(
                FieldProblem(
                    "metadata",
                    f"is {size / 1024:.0f} KiB as JSON; at most {MAX_BYTES // 1024} KiB is allowed",
                )
            )
    if problems:
        raise InvalidMetadataError(problems)


def loads_shown(text: str) -> Any:
    """A stored JSON value as reads may show it: cut at the depth limit (rows stored before
    the bounds may hold more), or a note where it cannot be read at all."""
    try:
        value = json.loads(text)
    except RecursionError:
        return CUT
    return cut_deep(value)


def cut_deep(value: Any, limit: int = MAX_DEPTH) -> Any:
    """The value with every container deeper than `limit` replaced by a short note."""
    if _measure(value)[0] <= limit:
        return value  # the common case: nothing to copy
    root: list[Any] = [None]
    stack: list[tuple[Any, Any, Any, int]] = [(value, root, 0, 1)]
    while stack:
        source, parent, slot, depth = stack.pop()
        if not isinstance(source, dict | list):
            parent[slot] = source
        elif depth > limit:
            parent[slot] = CUT
        elif isinstance(source, dict):
            copy: dict[str, Any] = dict.fromkeys(source)
            parent[slot] = copy
            stack.extend((v, copy, k, depth + 1) for k, v in source.items())
        else:
            items: list[Any] = [None] * len(source)
            parent[slot] = items
            stack.extend((v, items, i, depth + 1) for i, v in enumerate(source))
    return root[0]


def _measure(value: Any) -> tuple[int, int]:
    """How deep a value nests (a scalar is 0) and how many object keys it holds."""
    deepest, keys = 0, 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            deepest, keys = max(deepest, depth), keys + len(item)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in item)
    return deepest, keys
