"""The int8 ONNX backend against torch, its model cache, and the backend a store records."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kb.embedding.embedder import Embedder, TorchEmbedder
from kb.embedding.layout import read_layout
from kb.embedding.onnx_embedder import BACKEND_SUFFIX, OnnxEmbedder
from kb.embedding.onnx_model import POINTER, file_hash
from kb.errors import InvalidRequestError, ModelMismatchError
from kb.knowledge_base import KnowledgeBase
from kb.models import ChunkDraft, DocumentDraft, SearchRequest
from kb.settings import Settings
from tests.conftest import EXAMPLES, ROOT

QUERIES = [
    "unarmed observers monitoring a ceasefire",
    "return of refugees to their villages",
    "sharing river water in a drought",
    "disarmament and reintegration of former combatants",
    "elections after the peace agreement",
    "who verifies the cantonment of forces",
]


@pytest.fixture(scope="module")
def torch_embedder() -> TorchEmbedder:
    return TorchEmbedder(Settings(embedder="torch"))


@pytest.fixture(scope="module")
def onnx_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture(scope="module")
def onnx_embedder(onnx_cache: Path) -> OnnxEmbedder:
    """Exported from the packaged model into an empty cache (a few seconds)."""
    return OnnxEmbedder(Settings(model_cache=onnx_cache))


@pytest.fixture(scope="module")
def passages() -> list[str]:
    """Real paragraphs of the sample corpus, short and long (some past the 256-token limit)."""
    paragraphs: list[str] = []
    for path in sorted(EXAMPLES.glob("*.md")) + sorted(EXAMPLES.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        paragraphs.extend(p.strip() for p in text.split("\n\n") if len(p.split()) >= 12)
    chosen = list(dict.fromkeys(paragraphs))[::5][:40]  # distinct ones, across the corpus
    chosen.append(" ".join(chosen[:12]))  # one far past the token limit: truncated
    assert len(chosen) == 41
    return chosen


def test_onnx_vectors_are_close_to_torchs(
    onnx_embedder: OnnxEmbedder, torch_embedder: TorchEmbedder, passages: list[str]
) -> None:
    ours = onnx_embedder.encode_documents(passages)
    reference = torch_embedder.encode_documents(passages)
    assert ours.shape == reference.shape == (len(passages), 384)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-4)
    cosines = np.sum(ours * reference, axis=1)
    assert cosines.min() >= 0.98, cosines.min()
    # Each passage is nearest its own torch vector: no rows swapped by the length sorting.
    assert (np.argmax(ours @ reference.T, axis=1) == np.arange(len(passages))).all()


def test_a_text_embeds_the_same_alone_or_in_a_padded_batch(
    onnx_embedder: OnnxEmbedder, passages: list[str]
) -> None:
    batched = onnx_embedder.encode_documents(passages)
    alone = np.stack([onnx_embedder.encode_documents([p])[0] for p in passages[:8]])
    # Not bit-equal: dynamic quantisation scales activations per batch, padding included.
    cosines = np.sum(batched[:8] * alone, axis=1)
    assert cosines.min() >= 0.98, cosines


def test_the_same_passages_come_first_for_each_query(
    onnx_embedder: OnnxEmbedder, torch_embedder: TorchEmbedder, passages: list[str]
) -> None:
    corpus = passages[:-1]  # the long one repeats others: near-ties, not a fair ranking

    def scores(embedder: Embedder) -> np.ndarray:
        result: np.ndarray = embedder.encode_queries(QUERIES) @ embedder.encode_documents(corpus).T
        return result

    ours, reference = scores(onnx_embedder), scores(torch_embedder)
    for mine, theirs in zip(ours, reference, strict=True):
        first, best = np.argmax(mine), np.argmax(theirs)
        # The same first passage, unless torch itself can hardly tell them apart: int8 moves a
        # query-passage score by up to 0.04 (measured on an AVX2 machine without VNNI, where
        # one query's first two passages, 0.014 apart for torch, swapped).
        assert first == best or theirs[best] - theirs[first] < 0.02
        assert len(set(np.argsort(-mine)[:3]) & set(np.argsort(-theirs)[:3])) >= 2
    assert sum(np.argmax(m) == np.argmax(t) for m, t in zip(ours, reference, strict=True)) >= 5


def test_the_cached_model_is_reused(
    onnx_embedder: OnnxEmbedder, onnx_cache: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first = onnx_embedder.model_path()
    written = first.stat().st_mtime_ns
    caplog.set_level(logging.INFO)
    again = OnnxEmbedder(Settings(model_cache=onnx_cache))
    assert again.model_path() == first and first.stat().st_mtime_ns == written
    assert "exporting" not in caplog.text
    assert [p.name for p in onnx_cache.glob("*/*.onnx")] == [first.name]


@pytest.mark.parametrize("damage", ["half-written model", "garbage pointer"])
def test_a_damaged_cache_is_exported_again(
    onnx_embedder: OnnxEmbedder,
    tmp_path: Path,
    damage: str,
    caplog: pytest.LogCaptureFixture,
    passages: list[str],
) -> None:
    source = onnx_embedder.model_path().parent
    cache = tmp_path / "cache"
    shutil.copytree(source, cache / source.name)
    folder = cache / source.name
    if damage == "half-written model":
        model = next(folder.glob("*.onnx"))
        model.write_bytes(model.read_bytes()[: model.stat().st_size // 2])
    else:
        (folder / POINTER).write_text("{not json")
    caplog.set_level(logging.INFO)
    rebuilt = OnnxEmbedder(Settings(model_cache=cache))
    path = rebuilt.model_path()
    assert "exporting" in caplog.text
    pointer = json.loads((folder / POINTER).read_text())
    assert path == folder / pointer["file"] and file_hash(path) == pointer["sha256"]
    vectors = rebuilt.encode_documents(passages[:4])
    assert np.allclose(vectors, onnx_embedder.encode_documents(passages[:4]), atol=1e-5)


def test_export_and_use_need_no_network(tmp_path: Path) -> None:
    """A fresh export and a query in a process whose every connection attempt fails."""
    script = (
        "import socket, sys\n"
        "def refuse(*args, **kwargs): raise OSError('network used')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "from kb.settings import Settings\n"
        "from kb.embedding.onnx_embedder import OnnxEmbedder\n"
        f"embedder = OnnxEmbedder(Settings(model_cache={str(tmp_path)!r}))\n"
        "print(embedder.encode_query('ceasefire observers').shape)\n"
    )
    env = os.environ | {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "(384,)"
    assert list(tmp_path.glob("*/model-*.onnx"))


def draft(document_id: str, text: str) -> DocumentDraft:
    return DocumentDraft(
        document_id=document_id,
        title=document_id,
        doc_type="other",
        source_name=f"{document_id}.txt",
        sha256=document_id,
        metadata={},
        date=None,
        chunks=(ChunkDraft(0, text, None, 1, 1, 0, len(text)),),
    )


def test_a_store_refuses_the_other_backend_until_reindexed(
    onnx_embedder: OnnxEmbedder, torch_embedder: TorchEmbedder, tmp_path: Path
) -> None:
    settings = Settings(store=tmp_path / "store")
    with KnowledgeBase(settings, embedder=onnx_embedder) as kb:
        kb.add([draft("water", "Sharing the river's water in a drought.")])
        assert kb.stats().model == "all-MiniLM-L6-v2" + BACKEND_SUFFIX
    with pytest.raises(ModelMismatchError) as error:
        KnowledgeBase(settings, embedder=torch_embedder)
    assert BACKEND_SUFFIX in error.value.message and "KB_EMBEDDER" in error.value.message
    with KnowledgeBase(settings, embedder=torch_embedder, allow_model_change=True) as kb:
        assert kb.reindex().model == "all-MiniLM-L6-v2"
        found = kb.search(SearchRequest("drought water sharing", mode="dense")).results
        assert [p.document_id for p in found] == ["water"]
    with pytest.raises(ModelMismatchError):
        KnowledgeBase(settings, embedder=onnx_embedder)


def test_a_model_the_graph_cannot_reproduce_is_refused(
    onnx_embedder: OnnxEmbedder, tmp_path: Path
) -> None:
    source = onnx_embedder._folder
    other = tmp_path / "cls-model"
    shutil.copytree(source, other, ignore=shutil.ignore_patterns("*.safetensors"))
    pooling = other / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text())
    config |= {"pooling_mode_cls_token": True, "pooling_mode_mean_tokens": False}
    pooling.write_text(json.dumps(config))
    with pytest.raises(InvalidRequestError) as error:
        read_layout(other)
    assert str(other) in error.value.message and "KB_EMBEDDER=torch" in error.value.message
