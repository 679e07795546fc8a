"""The index file is saved now and then, not at every write; a file behind the store is caught
up when loaded. Real SQLite, FAISS and model; a crash is the process ending without `close`
(the store's connection closed, the index's unsaved changes never written)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from kb.embedding.embedder import Embedder, TorchEmbedder
from kb.knowledge_base import KnowledgeBase
from kb.models import ChunkDraft, DocumentDraft, SearchRequest
from kb.settings import Settings
from kb.vectors.index_file import HEADER_NAME, INDEX_NAME

TEXTS = {
    "ceasefire": "The parties agree to an immediate ceasefire along the northern line of contact.",
    "refugees": "Refugees and displaced persons may return voluntarily to their homes.",
    "water": "The riparian states share the river's dry-season flow in fixed proportions.",
    "elections": "Elections for a constituent assembly are held within eighteen months.",
    "amnesty": "An amnesty covers political offences committed before the signature.",
}


def draft(name: str) -> DocumentDraft:
    text = TEXTS[name]
    return DocumentDraft(
        document_id=name,
        title=name,
        doc_type="agreement",
        source_name=f"{name}.txt",
        sha256=name,
        metadata={"region": "Aurel"},
        date="2001-05-01",
        chunks=(ChunkDraft(0, text, None, 1, 1, 0, len(text)),),
    )


def lazy(folder: Path) -> Settings:
    """Never saved by the write rules: only at close, or a rebuild."""
    return Settings(store=folder, index_save_passages=1_000_000, index_save_seconds=1e9)


def crash(kb: KnowledgeBase) -> None:
    kb.store.close()  # not kb.close(): what a killed process leaves


def header(settings: Settings) -> dict[str, object]:
    loaded: dict[str, object] = json.loads((settings.store / HEADER_NAME).read_text())
    return loaded


def top(kb: KnowledgeBase, query: str) -> str:
    found = kb.search(SearchRequest(query, mode="dense", limit=1)).results
    return found[0].document_id


def test_writes_are_not_saved_until_close(tmp_path: Path, embedder: Embedder) -> None:
    settings = lazy(tmp_path / "store")
    with KnowledgeBase(settings, embedder=embedder) as kb:
        kb.add([draft("ceasefire"), draft("refugees")])
        kb.add([draft("water")])
        saved = header(settings)["generation"]
        assert isinstance(saved, int) and saved < kb.store.generation()
        generation = kb.store.generation()
    assert header(settings)["generation"] == generation and header(settings)["count"] == 3


def test_a_file_behind_the_store_is_caught_up_on_load(
    tmp_path: Path, embedder: Embedder, caplog: pytest.LogCaptureFixture
) -> None:
    settings = lazy(tmp_path / "store")
    with KnowledgeBase(settings, embedder=embedder) as kb:
        kb.add([draft("ceasefire"), draft("refugees"), draft("water")])
    kb = KnowledgeBase(settings, embedder=embedder)
    kb.add([draft("elections"), draft("amnesty")])
    kb.delete("water", "tester")
    behind = header(settings)
    crash(kb)
    caplog.set_level(logging.INFO)
    with KnowledgeBase(settings, embedder=embedder) as reopened:
        assert behind["generation"] < reopened.store.generation() and behind["count"] == 3
        index = reopened.index()
        assert len(index) == 4 and reopened.check() == []
        assert "caught the exact index up" in caplog.text and "rebuilt" not in caplog.text
        assert top(reopened, "constituent assembly vote") == "elections"
        assert top(reopened, "amnesty for political crimes") == "amnesty"
        assert "water" not in {
            p.document_id
            for p in reopened.search(SearchRequest("river flow", mode="dense")).results
        }
    assert header(settings)["count"] == 4  # saved at close


def test_another_processes_writes_are_caught_up_in_memory(
    tmp_path: Path, embedder: Embedder
) -> None:
    settings = lazy(tmp_path / "store")
    with KnowledgeBase(settings, embedder=embedder) as reader:
        reader.add([draft("ceasefire"), draft("water")])
        held = reader.index()
        with KnowledgeBase(settings, embedder=embedder) as writer:
            writer.add([draft("elections")])
            writer.delete("water", "tester")
        assert reader.index() is held and len(held) == 2  # the same object, caught up
        assert top(reader, "constituent assembly vote") == "elections" and reader.check() == []


def test_a_torn_file_behind_the_store_is_rebuilt(
    tmp_path: Path, embedder: Embedder, caplog: pytest.LogCaptureFixture
) -> None:
    settings = lazy(tmp_path / "store")
    with KnowledgeBase(settings, embedder=embedder) as kb:
        kb.add([draft("ceasefire"), draft("refugees")])
    kb = KnowledgeBase(settings, embedder=embedder)
    kb.add([draft("water")])
    crash(kb)
    data = bytearray((settings.store / INDEX_NAME).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (settings.store / INDEX_NAME).write_bytes(bytes(data))
    caplog.set_level(logging.INFO)
    with KnowledgeBase(settings, embedder=embedder) as reopened:
        assert len(reopened.index()) == 3 and reopened.check() == []
    assert "stale FAISS index" in caplog.text and "rebuilt the FAISS index from 3" in caplog.text


def test_a_re_embed_is_never_caught_up_by_id(
    tmp_path: Path, embedder: Embedder, caplog: pytest.LogCaptureFixture
) -> None:
    """Re-embedded vectors sit under the same chunk ids: an index of the old ones, even one
    behind the store, must be rebuilt, not caught up (the process here dies between the
    re-embed and the rebuild that `kb reindex` does next)."""
    settings = lazy(tmp_path / "store")
    with KnowledgeBase(settings, embedder=embedder) as kb:
        kb.add([draft("ceasefire"), draft("refugees")])
        old_ids, old_vectors = kb.store.all_vectors(kb.dimension)
    kb = KnowledgeBase(settings, embedder=embedder)
    kb.add([draft("water")])
    crash(kb)
    torch = TorchEmbedder(Settings(embedder="torch"))
    kb = KnowledgeBase(settings, embedder=torch, allow_model_change=True)
    kb.upkeep.reembed(None)
    crash(kb)
    caplog.set_level(logging.INFO)
    with KnowledgeBase(settings, embedder=torch) as reopened:
        ids, vectors = reopened.store.all_vectors(reopened.dimension)
        # The test can fail: the old vectors differ from the new ones under the same ids.
        assert (ids[:2] == old_ids).all()
        assert np.max(np.sum(old_vectors * vectors[:2], axis=1)) < 0.99999
        scores, found = reopened.index().search(vectors, 1)
        assert (found[:, 0] == ids).all() and np.allclose(scores[:, 0], 1.0, atol=1e-5)
        assert "caught" not in caplog.text and "rebuilt the FAISS index from 3" in caplog.text
        assert reopened.check() == []


def test_reindex_saves_at_once(tmp_path: Path, embedder: Embedder) -> None:
    settings = lazy(tmp_path / "store")
    kb = KnowledgeBase(settings, embedder=embedder)
    kb.add([draft("ceasefire"), draft("refugees")])
    assert header(settings)["generation"] != kb.store.generation()
    kb.reindex()
    assert header(settings)["generation"] == kb.store.generation()
    assert header(settings)["count"] == 2
    crash(kb)


def test_enough_changes_save_the_file(tmp_path: Path, embedder: Embedder) -> None:
    settings = Settings(store=tmp_path / "store", index_save_passages=3, index_save_seconds=1e9)
    with KnowledgeBase(settings, embedder=embedder) as kb:
        kb.add([draft("ceasefire"), draft("refugees")])
        assert header(settings)["count"] == 0  # 2 changes: not yet
        kb.add([draft("water")])
        assert header(settings)["count"] == 3  # 3: saved
        kb.add([draft("elections")])
        assert header(settings)["count"] == 3
        crash(kb)
