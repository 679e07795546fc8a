"""Changing reading packs in the core: edit, notes, remove, reorder and move, duplicate,
delete; what a viewer may not see keeps its place and cannot be touched; stores made before
items had ids migrate."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from kb.access import Viewer
from kb.embedding.embedder import Embedder
from kb.errors import ForbiddenError, InvalidRequestError, NotFoundError
from kb.knowledge_base import KnowledgeBase
from kb.models import Pack
from kb.settings import Settings
from kb.store.sql_filters import FOLD_FUNCTION, fold
from kb.store.sqlite import sql
from kb.store.sqlite.store import SQLiteStore
from tests.kb.test_access import MARKED, draft

GUEST = Viewer("guest", "trainer", "public")  # sees only "open"
STAFF = Viewer("sam", "trainer", "internal")  # sees "open" and "staff"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[KnowledgeBase]:
    """The marked documents, embedded once for the module."""
    settings = Settings(store=tmp_path_factory.mktemp("packs") / "store")
    with KnowledgeBase(settings, embedder=embedder) as kb:
        kb.add([draft(d) for d in MARKED], "setup")
        yield kb


@pytest.fixture
def marked(store: KnowledgeBase) -> KnowledgeBase:
    """The module's store with no packs in it."""
    for pack in store.packs():
        store.delete_pack(pack.pack_id)
    return store


def docs(pack: Pack) -> list[str]:
    return [i.document_id for i in pack.items]


def mixed(kb: KnowledgeBase) -> Pack:
    """open, secret, staff, restricted, open (again, a passage) in that order."""
    pack = kb.create_pack("Mixed", "trainer", "mediators", ("compare", "weigh"))
    for document_id in ("open", "secret", "staff", "restricted"):
        kb.add_to_pack(pack.pack_id, document_id, note=f"on {document_id}")
    passage = kb.chunks("open")[0].chunk_id
    return kb.add_to_pack(pack.pack_id, "open", chunk_id=passage, note="the passage")


def test_items_have_stable_ids_through_edits_and_removals(marked: KnowledgeBase) -> None:
    pack = mixed(marked)
    ids = [i.item_id for i in pack.items]
    assert len(set(ids)) == 5 and [i.position for i in pack.items] == [0, 1, 2, 3, 4]

    noted = marked.edit_pack_item(pack.pack_id, ids[2], "  the evaluation  ")
    assert [i.note for i in noted.items][2] == "the evaluation"
    left = marked.remove_from_pack(pack.pack_id, ids[1])
    assert [i.item_id for i in left.items] == [ids[0], ids[2], ids[3], ids[4]]
    assert [i.position for i in left.items] == [0, 1, 2, 3]
    again = marked.add_to_pack(pack.pack_id, "secret")
    assert again.items[-1].item_id not in ids  # a removed item's id is never handed out again
    assert again.updated_at >= pack.updated_at


def test_edit_changes_only_what_is_given(marked: KnowledgeBase) -> None:
    pack = mixed(marked)
    edited = marked.edit_pack(pack.pack_id, title="  Monitoring   ceasefires ")
    assert (edited.title, edited.audience, edited.objectives) == (
        "Monitoring ceasefires",
        "mediators",
        ("compare", "weigh"),
    )
    edited = marked.edit_pack(pack.pack_id, audience="", objectives=["read", " argue "])
    assert (edited.title, edited.audience, edited.objectives) == (
        "Monitoring ceasefires",
        "",
        ("read", "argue"),
    )
    assert docs(edited) == docs(pack)
    for bad in ({"title": " "}, {"objectives": ["fine", ""]}, {"audience": "x" * 301}):
        with pytest.raises(InvalidRequestError):
            marked.edit_pack(pack.pack_id, **bad)  # type: ignore[arg-type]
    assert marked.pack(pack.pack_id).title == "Monitoring ceasefires"  # unchanged by refusals
    for missing in (999, 0, -1, 2**63, 10**30):  # beyond SQLite's integers: missing too
        with pytest.raises(NotFoundError, match=f"no pack {missing}"):
            marked.edit_pack(missing, title="Nothing")
    with pytest.raises(NotFoundError, match="no passage"):
        marked.add_to_pack(pack.pack_id, "open", chunk_id=2**64)


def test_reorder_puts_every_item_where_it_is_asked(marked: KnowledgeBase) -> None:
    pack = mixed(marked)
    ids = [i.item_id for i in pack.items]
    wanted = [ids[4], ids[2], ids[0], ids[3], ids[1]]
    assert [i.item_id for i in marked.reorder_pack(pack.pack_id, wanted).items] == wanted
    assert [i.item_id for i in marked.pack(pack.pack_id).items] == wanted
    for bad in (wanted[:-1], [*wanted, ids[0]], [*wanted[:-1], wanted[0]], [*wanted[:-1], 999]):
        with pytest.raises(InvalidRequestError, match="once"):
            marked.reorder_pack(pack.pack_id, bad)
    assert [i.item_id for i in marked.pack(pack.pack_id).items] == wanted

    moved = marked.move_pack_item(pack.pack_id, ids[1], 0)
    assert [i.item_id for i in moved.items] == [ids[1], ids[4], ids[2], ids[0], ids[3]]
    moved = marked.move_pack_item(pack.pack_id, ids[1], 4)
    assert [i.item_id for i in moved.items] == [ids[4], ids[2], ids[0], ids[3], ids[1]]
    with pytest.raises(InvalidRequestError, match="to_index must be from 0 to 4"):
        marked.move_pack_item(pack.pack_id, ids[1], 5)


def test_a_viewer_reorders_only_their_items_and_the_withheld_keep_their_slots(
    marked: KnowledgeBase,
) -> None:
    pack = mixed(marked)
    ids = [i.item_id for i in pack.items]  # open, secret, staff, restricted, open-passage
    seen = marked.pack(pack.pack_id, STAFF)
    assert [i.item_id for i in seen.items] == [ids[0], ids[2], ids[4]]
    assert [i.position for i in seen.items] == [0, 1, 2]  # numbered as they see them
    assert seen.withheld == 2

    after = marked.reorder_pack(pack.pack_id, [ids[4], ids[0], ids[2]], STAFF)
    assert [i.item_id for i in after.items] == [ids[4], ids[0], ids[2]]
    # Slots 1 (secret) and 3 (restricted) did not move; the visible items filled 0, 2 and 4.
    full = [i.item_id for i in marked.pack(pack.pack_id).items]
    assert full == [ids[4], ids[1], ids[0], ids[3], ids[2]]
    # Naming a withheld item is refused with the same words as naming a missing one.
    with pytest.raises(InvalidRequestError) as hidden:
        marked.reorder_pack(pack.pack_id, [ids[4], ids[0], ids[1]], STAFF)
    with pytest.raises(InvalidRequestError) as missing:
        marked.reorder_pack(pack.pack_id, [ids[4], ids[0], 999], STAFF)
    assert str(hidden.value) == str(missing.value)
    assert str(ids[1]) not in str(hidden.value).split(": ")[1].split(", ")

    moved = marked.move_pack_item(pack.pack_id, ids[0], 0, GUEST)  # sees ids 4 and 0
    assert [i.item_id for i in moved.items] == [ids[0], ids[4]]
    assert [i.item_id for i in marked.pack(pack.pack_id).items] == [
        ids[0],
        ids[1],
        ids[4],
        ids[3],
        ids[2],
    ]


@pytest.mark.parametrize("viewer", [GUEST, STAFF])
def test_a_hidden_item_answers_exactly_like_a_missing_one(
    marked: KnowledgeBase, viewer: Viewer
) -> None:
    pack = mixed(marked)
    secret = pack.items[1].item_id
    for change in (
        lambda i: marked.edit_pack_item(pack.pack_id, i, "mine now", viewer),
        lambda i: marked.remove_from_pack(pack.pack_id, i, viewer),
        lambda i: marked.move_pack_item(pack.pack_id, i, 0, viewer),
    ):
        with pytest.raises(NotFoundError) as hidden:
            change(secret)
        with pytest.raises(NotFoundError) as missing:
            change(999)
        assert str(hidden.value) == str(missing.value).replace("999", str(secret))
    assert marked.pack(pack.pack_id) == pack  # nothing changed, not even updated_at


def test_duplicate_as_a_viewer_copies_only_the_items_they_see(marked: KnowledgeBase) -> None:
    pack = mixed(marked)
    copy = marked.duplicate_pack(pack.pack_id, "rae", viewer=STAFF)
    assert copy.pack_id != pack.pack_id
    assert (copy.title, copy.audience, copy.objectives, copy.owner) == (
        "Copy of Mixed",
        "mediators",
        ("compare", "weigh"),
        "rae",
    )
    assert [(i.document_id, i.chunk_id, i.note) for i in copy.items] == [
        (i.document_id, i.chunk_id, i.note) for i in marked.pack(pack.pack_id, STAFF).items
    ]
    assert copy.withheld == 0 and marked.pack(copy.pack_id).withheld == 0
    assert not {i.item_id for i in copy.items} & {i.item_id for i in pack.items}

    named = marked.duplicate_pack(pack.pack_id, "trainer", title="Second run")
    assert named.title == "Second run" and docs(named) == docs(pack)
    long = marked.edit_pack(pack.pack_id, title="x" * 300)
    assert len(marked.duplicate_pack(long.pack_id, "trainer").title) == 300


def test_adding_many_adds_all_in_order_or_none(marked: KnowledgeBase) -> None:
    pack = marked.create_pack("Batch", "trainer")
    passage = marked.chunks("staff")[0].chunk_id
    other = marked.chunks("open")[0].chunk_id
    for bad in (
        [("open", None, "a"), ("no-such-document", None, "b")],
        [("open", None, "a"), ("staff", other, "a passage of another document")],
        [("open", None, "a"), ("restricted", None, "hidden from sam")],
    ):
        with pytest.raises(NotFoundError):
            marked.add_all_to_pack(pack.pack_id, bad, STAFF)
        assert marked.pack(pack.pack_id).items == ()  # nothing of the batch was added
    added = marked.add_all_to_pack(
        pack.pack_id, [("staff", passage, " first "), ("open", None, "second")], STAFF
    )
    assert [(i.document_id, i.chunk_id, i.note) for i in added.items] == [
        ("staff", passage, "first"),
        ("open", None, "second"),
    ]


def test_delete_takes_the_pack_and_its_items(marked: KnowledgeBase) -> None:
    pack = mixed(marked)
    kept = marked.create_pack("Kept", "trainer")
    marked.delete_pack(pack.pack_id, STAFF)
    with pytest.raises(NotFoundError, match=f"no pack {pack.pack_id}"):
        marked.pack(pack.pack_id)
    with pytest.raises(NotFoundError):
        marked.delete_pack(pack.pack_id)
    assert [p.pack_id for p in marked.packs()] == [kept.pack_id]


def test_only_those_who_work_on_packs_change_them(marked: KnowledgeBase) -> None:
    pack = mixed(marked)
    reader = Viewer("rita", "reader", "confidential")
    assert docs(marked.pack(pack.pack_id, reader)) == docs(pack)  # readers read
    item = pack.items[0].item_id
    for change in (
        lambda: marked.create_pack("Mine", "rita", viewer=reader),
        lambda: marked.edit_pack(pack.pack_id, title="Mine", viewer=reader),
        lambda: marked.add_to_pack(pack.pack_id, "open", viewer=reader),
        lambda: marked.edit_pack_item(pack.pack_id, item, "x", reader),
        lambda: marked.remove_from_pack(pack.pack_id, item, reader),
        lambda: marked.reorder_pack(pack.pack_id, [], reader),
        lambda: marked.duplicate_pack(pack.pack_id, "rita", viewer=reader),
        lambda: marked.delete_pack(pack.pack_id, reader),
    ):
        with pytest.raises(ForbiddenError, match="reader role may not change reading packs"):
            change()
    assert marked.pack(pack.pack_id) == pack


def test_listing_pages_packs_with_each_viewers_items(marked: KnowledgeBase) -> None:
    made = [mixed(marked).pack_id for _ in range(3)]
    total, page = marked.list_packs(2, 1, GUEST)
    assert total == 3
    assert [p.pack_id for p in page] == [made[1], made[0]]  # most recently changed first
    assert all(docs(p) == ["open", "open"] and p.withheld == 3 for p in page)


def test_pack_contents_name_each_items_document_and_passage(marked: KnowledgeBase) -> None:
    pack = marked.pack(mixed(marked).pack_id, STAFF)
    documents, chunks = marked.pack_contents(pack)
    assert set(documents) == {"open", "staff"}
    passage = pack.items[-1].chunk_id
    assert passage is not None and chunks[passage].text.startswith("The ceasefire commission")


def test_a_store_made_before_items_had_ids_migrates(tmp_path: Path) -> None:
    folder = tmp_path / "store"
    folder.mkdir()
    db = sqlite3.connect(folder / "kb.sqlite", isolation_level=None)
    db.create_function(FOLD_FUNCTION, 1, fold, deterministic=True)
    for number, script in enumerate(sql.MIGRATIONS[:5], start=1):  # up to M005_PACKS
        db.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
    now = "2024-01-01T00:00:00+00:00"
    for pack_id, title in ((1, "First"), (2, "Second")):
        db.execute(
            "INSERT INTO packs VALUES (?, ?, '', ?, 'trainer', ?, ?)",
            (pack_id, title, json.dumps(["aim"]), now, now),
        )
    # Positions inserted out of order: ids must follow the order of the pack, not of insertion.
    for row in ((1, 1, "b", None, "second"), (2, 0, "c", 7, ""), (1, 0, "a", None, "first")):
        db.execute("INSERT INTO pack_items VALUES (?, ?, ?, ?, ?)", row)
    db.close()

    store = SQLiteStore(folder)
    try:
        first, second = store.get_pack(1), store.get_pack(2)
        assert first is not None and second is not None
        assert [(i.item_id, i.position, i.document_id, i.note) for i in first.items] == [
            (1, 0, "a", "first"),
            (2, 1, "b", "second"),
        ]
        assert [(i.item_id, i.chunk_id) for i in second.items] == [(3, 7)]
        assert store.add_pack_items(2, [("d", None, "")]) == [4]
        version = store._db.execute("PRAGMA user_version").fetchone()[0]
        assert version == len(sql.MIGRATIONS)
    finally:
        store.close()
