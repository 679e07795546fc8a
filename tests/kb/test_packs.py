"""Reading packs in the core: ordered items with notes, shown to each viewer with only what
they may see (the rest counted as withheld)."""

from __future__ import annotations

import pytest

from kb.access import Viewer
from kb.errors import InvalidRequestError, NotFoundError
from kb.knowledge_base import KnowledgeBase
from tests.kb.test_access import MARKED, draft

pytestmark = pytest.mark.backends


@pytest.fixture
def marked(kb: KnowledgeBase) -> KnowledgeBase:
    kb.add([draft(d) for d in MARKED], "setup")
    return kb


def test_a_pack_keeps_its_items_in_order_with_notes(marked: KnowledgeBase) -> None:
    pack = marked.create_pack("Ceasefire monitoring", "trainer", "new mediators", ("compare",))
    passage = marked.chunks("staff")[0].chunk_id
    marked.add_to_pack(pack.pack_id, "open", note="start here")
    marked.add_to_pack(pack.pack_id, "staff", chunk_id=passage, note="the key passage")

    again = marked.pack(pack.pack_id)
    assert (again.title, again.audience, again.objectives) == (
        "Ceasefire monitoring",
        "new mediators",
        ("compare",),
    )
    assert [(i.position, i.document_id, i.chunk_id, i.note) for i in again.items] == [
        (0, "open", None, "start here"),
        (1, "staff", passage, "the key passage"),
    ]
    assert [p.pack_id for p in marked.packs()] == [pack.pack_id]


def test_items_a_viewer_may_not_see_are_withheld(marked: KnowledgeBase) -> None:
    pack = marked.create_pack("Mixed", "trainer")
    for document_id in ("open", "secret", "staff"):
        marked.add_to_pack(pack.pack_id, document_id)
    guest = Viewer("guest", "trainer", "public")

    seen = marked.pack(pack.pack_id, guest)

    assert [i.document_id for i in seen.items] == ["open"]
    assert seen.withheld == 2
    with pytest.raises(NotFoundError, match="no document 'secret'"):
        marked.add_to_pack(pack.pack_id, "secret", viewer=guest)


def test_bad_packs_and_items_are_refused(marked: KnowledgeBase) -> None:
    with pytest.raises(InvalidRequestError, match="title"):
        marked.create_pack("   ", "trainer")
    pack = marked.create_pack("Refusals", "trainer")
    other = marked.chunks("open")[0].chunk_id
    with pytest.raises(NotFoundError, match="no passage"):
        marked.add_to_pack(pack.pack_id, "staff", chunk_id=other)
    with pytest.raises(NotFoundError, match="no pack 999"):
        marked.add_to_pack(999, "open")
    assert marked.pack(pack.pack_id).items == ()
