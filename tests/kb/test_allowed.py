"""Allowed passage sets, kept per store generation and filters: a viewer who sees everything
takes the unfiltered path, a narrower one keeps seeing exactly their own, after writes too."""

from __future__ import annotations

import pytest

from kb.access import Viewer
from kb.knowledge_base import KnowledgeBase
from kb.models import ChunkDraft, DocumentDraft, Filters, SearchRequest
from kb.search.owners import ChunkOwners
from kb.store.allowed import filter_key

pytestmark = pytest.mark.backends


def draft(document_id: str, words: str, level: str, region: str = "Tamsin") -> DocumentDraft:
    return DocumentDraft(
        document_id=document_id,
        title=f"Report {document_id}",
        doc_type="evaluation",
        source_name=f"{document_id}.md",
        sha256=document_id,
        metadata={"region": region},
        date="2004-01-01",
        chunks=(ChunkDraft(0, words, None, 1, 1, 0, len(words)),),
        classification=level,
    )


BODY = "The ceasefire commission met to hear the monitors of the {} sector."
ADMIN = Viewer("ada", "admin", "confidential")
READER = Viewer("pat", "reader", "public")


def found(kb: KnowledgeBase, viewer: Viewer, filters: Filters | None = None) -> list[str]:
    request = SearchRequest(
        query="ceasefire monitors", mode="dense", limit=20, filters=filters or Filters()
    )
    return sorted(r.document_id for r in kb.search(request, viewer).results)


def test_a_viewer_who_sees_everything_searches_unfiltered(kb: KnowledgeBase) -> None:
    kb.add(
        [
            draft("open", BODY.format("north"), "public"),
            draft("shut", BODY.format("south"), "confidential"),
        ]
    )
    sets = kb.searcher._allowed_sets  # noqa: SLF001 - what the cache decided is the point
    assert sets.get(Filters(viewer=ADMIN)) is None
    narrow = sets.get(Filters(viewer=READER))
    assert narrow is not None and len(narrow.ids) == 1
    assert sets.get(Filters(viewer=READER)) is narrow  # kept
    assert found(kb, ADMIN) == ["open", "shut"]
    assert found(kb, READER) == ["open"]


def test_kept_sets_follow_writes(kb: KnowledgeBase) -> None:
    kb.add(
        [
            draft("open", BODY.format("north"), "public"),
            draft("shut", BODY.format("south"), "confidential"),
        ]
    )
    assert found(kb, READER) == ["open"]
    region = Filters(equals={"region": ("Serran",)})
    assert found(kb, ADMIN, region) == []
    kb.add([draft("later", BODY.format("east"), "public", "Serran")])
    assert found(kb, ADMIN, region) == ["later"]
    assert found(kb, READER) == ["later", "open"]
    kb.delete("open")
    assert found(kb, READER) == ["later"]
    assert found(kb, ADMIN) == ["later", "shut"]


def test_filter_keys_ignore_order_and_the_viewers_name() -> None:
    one = Filters(equals={"region": ("b", "a")}, viewer=Viewer("x", "reader", "public", ("g", "h")))
    two = Filters(equals={"region": ("a", "b")}, viewer=Viewer("y", "admin", "public", ("h", "g")))
    assert filter_key(one) == filter_key(two)
    assert filter_key(one) != filter_key(Filters(equals={"region": ("a",)}, viewer=one.viewer))
    assert filter_key(Filters()) != filter_key(Filters(viewer=one.viewer))


def test_chunk_owners_name_each_passages_document_and_skip_unknown_ids(kb: KnowledgeBase) -> None:
    kb.add(
        [
            draft("open", BODY.format("north"), "public"),
            draft("shut", BODY.format("south"), "confidential"),
        ]
    )
    stored = {c.chunk_id: c.document_id for d in ("open", "shut") for c in kb.chunks(d)}
    owners = ChunkOwners(kb.store)
    assert owners.of([*stored, 987654], "s") == stored
    assert owners.of(list(stored)[:1], "s") == dict(list(stored.items())[:1])  # from memory now


def test_keyword_hits_kept_by_the_allowed_set_equal_the_filtered_sql_search(
    kb: KnowledgeBase,
) -> None:
    """The two ways keyword search filters (joins in SQL, or the kept set over the FTS index's
    own ranking) give the same passages in the same order, hidden and trashed ones left out."""
    levels = ("public", "internal", "restricted", "confidential")
    kb.add(
        [
            draft(
                f"d{n}",
                BODY.format(("north", "south", "east")[n % 3]) + " ceasefire" * (n % 4),
                levels[n % 4],
                ("Tamsin", "Serran")[n % 2],
            )
            for n in range(24)
        ]
    )
    kb.delete("d1")  # in the trash: never found
    kb.delete("d6")
    viewers = (None, READER, Viewer("ina", "reader", "internal"), ADMIN)
    compared = 0
    for viewer in viewers:
        for filters in (
            Filters(viewer=viewer),
            Filters(equals={"region": ("Serran",)}, viewer=viewer),
            Filters(doc_types=("report",), viewer=viewer),  # matches nothing
        ):
            allowed = kb.searcher._allowed_sets.get(filters)  # noqa: SLF001
            if allowed is None:
                continue  # this viewer sees every live passage: the SQL path alone
            for expression in ('"ceasefire"', '"monitors" OR "north"', '"south"'):
                for budget in (5, 100):
                    expected = kb.store.keyword_search(expression, filters, 8, budget)
                    kept = allowed.keep(kb.store.keyword_ranked(expression, budget), 8)
                    assert kept == expected, (viewer, filters, expression, budget)
                    compared += len(kept)
                    assert not {c for c, _ in kept} & {
                        c.chunk_id for d in ("d1", "d6") for c in kb.store.chunks_of(d)
                    }
    assert compared > 50  # the filtered sets were really compared
