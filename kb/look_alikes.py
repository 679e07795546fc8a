"""Document ids that differ only by case are look-alikes: "Accord-1" beside "accord-1" would be
two documents a reader cannot tell apart, so a new id taken by another but for case is refused.
"""

from __future__ import annotations

import string
from collections.abc import Sequence

from kb.access import Viewer, may_see
from kb.store.protocol import Store

# Case is ASCII letters' only, as SQLite's lower() and PostgreSQL's in the "C" collation fold
# it: both backends then agree on what a look-alike is.
ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def look_alikes(store: Store, new_ids: Sequence[str]) -> dict[str, list[str]]:
    """For each lower-cased id, the ids that take it: stored ones (trashed ones too) first,
    then these new ones in their order."""
    taken: dict[str, list[str]] = {}
    for document_id in [*store.case_variants(new_ids), *new_ids]:
        ids = taken.setdefault(document_id.translate(ASCII_LOWER), [])
        if document_id not in ids:
            ids.append(document_id)
    return taken


def look_alike_refusal(
    store: Store, document_id: str, taken: dict[str, list[str]], viewer: Viewer | None
) -> str | None:
    """Why a new id is refused, when another took it first but for case; None if it is free."""
    first = (taken.get(document_id.translate(ASCII_LOWER)) or [document_id])[0]
    if first == document_id:
        return None
    stored = store.get_document(first)
    if stored is not None and not may_see(viewer, stored.classification, stored.groups):
        # Said as of any id one may not use, so it tells nothing of what is there.
        return f"document_id {document_id!r} is not available; choose another"
    return (
        f"document_id {document_id!r} differs only by case from {first!r}; use {first!r} "
        "for a new version of it, or another id"
    )
