"""Shared fixtures: a real store under tmp_path, one real model per session."""

from __future__ import annotations

import os

# Before anything imports transformers: no code may reach a model hub.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from kb.embedder import Embedder, make_embedder  # noqa: E402
from kb.knowledge_base import KnowledgeBase  # noqa: E402
from kb.settings import Settings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "corpora"
EXAMPLES = ROOT / "examples" / "corpus"


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real packaged MiniLM, loaded once for the whole run."""
    model = make_embedder(Settings())
    assert model.dimension == 384
    return model


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(store=tmp_path / "store")


@pytest.fixture
def kb(settings: Settings, embedder: Embedder) -> Iterator[KnowledgeBase]:
    with KnowledgeBase(settings, embedder=embedder) as base:
        yield base


def shared_corpus(name: str) -> Path:
    """A third-party corpus from ../shared, or a skip saying why it is missing."""
    path = SHARED / name
    if not path.exists():
        pytest.skip(f"needs ../shared/corpora/{name} beside the repository (absent here)")
    return path
