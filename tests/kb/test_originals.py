"""Original files: every ingested file kept byte for byte by its hash, through new versions,
duplicates and purges; `check` finds a missing one and notes an orphan; backups carry them."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from ingest.pipeline import ingest_paths
from kb.backup import backup_store, restore_store
from kb.embedding.embedder import Embedder
from kb.errors import NotFoundError
from kb.knowledge_base import KnowledgeBase
from kb.settings import Settings
from kb.store.original_files import OriginalFiles
from tests.docs import make_docx, make_pdf, write

WORDS = "The ceasefire monitors of the {} sector met the parties on the amnesty and the return."
FILES = {
    "accord.pdf": (make_pdf([WORDS.format("pdf"), "Page two on cantonment."]), "application/pdf"),
    "review.docx": (
        make_docx([("h1", "Review"), ("p", WORDS.format("docx"))]),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    "page.html": (
        f"<html><head><title>Page</title></head><body><p>{WORDS.format('html')}</p></body></html>".encode(),
        "text/html",
    ),
    "note.txt": (WORDS.format("txt").encode(), "text/plain"),
    "brief.md": (f"# Brief\n\n{WORDS.format('md')}\n".encode(), "text/markdown"),
}


def stored(kb: KnowledgeBase) -> set[str]:
    return OriginalFiles(kb.settings.store).stored()


def ingest(kb: KnowledgeBase, folder: Path) -> dict[str, str]:
    report = ingest_paths(kb, [folder])
    return {Path(o.source).name: o.status for o in report.outcomes}


def test_every_kind_of_file_is_kept_byte_for_byte(kb: KnowledgeBase, tmp_path: Path) -> None:
    for name, (data, _) in FILES.items():
        write(tmp_path / "in", name, data)
    assert set(ingest(kb, tmp_path / "in").values()) == {"added"}
    for name, (data, media_type) in FILES.items():
        document_id = Path(name).stem
        original, path = kb.original(document_id)
        assert (original.name, original.media_type) == (name, media_type)
        assert original.sha256 == hashlib.sha256(data).hexdigest()
        assert path.read_bytes() == data
        assert path == kb.settings.store / "originals" / original.sha256[:2] / original.sha256
        assert kb.get_document(document_id).has_original
    assert len(stored(kb)) == len(FILES)
    assert kb.check() == [] and kb.check_notes() == []


def test_a_record_has_no_original(kb: KnowledgeBase, tmp_path: Path) -> None:
    write(tmp_path / "in", "corpus.jsonl", json.dumps({"_id": "r1", "text": WORDS.format("r")}))
    ingest(kb, tmp_path / "in")
    assert not kb.get_document("r1").has_original
    with pytest.raises(NotFoundError, match="has no original file"):
        kb.original("r1")
    assert stored(kb) == set()


def test_new_versions_keep_old_originals_and_purge_keeps_shared_files(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    first, second = (
        b"# Accord\n\n" + WORDS.format("one").encode(),
        b"# Accord\n\n" + (WORDS.format("two").encode()),
    )
    write(tmp_path / "v1", "accord.md", first)
    write(tmp_path / "v2", "accord.md", second)
    ingest(kb, tmp_path / "v1")
    assert ingest(kb, tmp_path / "v2") == {"accord.md": "updated"}
    assert kb.original("accord")[1].read_bytes() == second
    assert kb.version_original("accord", 1)[1].read_bytes() == first
    assert kb.version_original("accord", 2)[1].read_bytes() == second
    assert [v.has_original for v in kb.versions("accord")] == [True, True]

    # The old content under another id is no duplicate (no live document holds it): it shares
    # the old version's file. The current content under a third id is a refused duplicate.
    write(tmp_path / "other", "copy.md", first)
    write(tmp_path / "dup", "twin.md", second)
    assert ingest(kb, tmp_path / "other") == {"copy.md": "added"}
    assert ingest(kb, tmp_path / "dup") == {"twin.md": "duplicate"}
    sha_first, sha_second = (hashlib.sha256(d).hexdigest() for d in (first, second))
    assert stored(kb) == {sha_first, sha_second}  # each file once

    kb.delete("accord")
    assert stored(kb) == {sha_first, sha_second}  # the trash keeps them: restorable
    kb.purge("accord")
    assert stored(kb) == {sha_first}  # still the copy's; the second was accord's alone
    assert kb.original("copy")[1].read_bytes() == first
    kb.delete("copy")
    kb.purge("copy")
    assert stored(kb) == set()
    assert kb.check() == []


def test_check_finds_a_missing_original_and_notes_an_orphan(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    write(tmp_path / "in", "note.txt", FILES["note.txt"][0])
    ingest(kb, tmp_path / "in")
    original, path = kb.original("note")
    orphan = OriginalFiles(kb.settings.store).keep(b"left by a crash before its commit")
    assert kb.check() == []
    assert kb.check_notes() == [
        f"1 original files no document names (left by an interrupted write): {orphan}"
    ]
    path.unlink()
    assert kb.check() == [f"1 original files named by documents but missing: {original.sha256}"]
    with pytest.raises(NotFoundError, match="missing"):
        kb.original("note")


def test_backup_and_restore_carry_the_originals(
    kb: KnowledgeBase, tmp_path: Path, embedder: Embedder
) -> None:
    for name in ("accord.pdf", "brief.md"):
        write(tmp_path / "in", name, FILES[name][0])
    ingest(kb, tmp_path / "in")
    report = backup_store(kb.settings.store, tmp_path / "backup")
    assert report.originals == 2
    restored = restore_store(tmp_path / "backup", tmp_path / "restored", wait_seconds=5)
    assert restored.originals == 2
    with KnowledgeBase(Settings(store=tmp_path / "restored"), embedder=embedder) as copy:
        assert copy.original("accord")[1].read_bytes() == FILES["accord.pdf"][0]
        assert copy.check() == [] and copy.check_notes() == []
