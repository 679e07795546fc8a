"""Sentence embeddings from the int8 ONNX export of the model, run by onnxruntime."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from kb.embedding.embedder import Embedder
from kb.embedding.layout import INPUTS, ModelLayout, read_layout
from kb.embedding.onnx_model import cached_model, default_cache
from kb.settings import Settings, usable_cores
from kb.store.protocol import Vectors

if TYPE_CHECKING:
    import onnxruntime
    from tokenizers import Encoding, Tokenizer

# Recorded beside the model's name in a store: int8 vectors are close to torch's (cosine about
# 0.994) but not equal, and a store must not rank one backend's queries against the other's
# passages without saying so.
BACKEND_SUFFIX = " (onnx int8)"


class OnnxEmbedder(Embedder):
    """The same model as `TorchEmbedder`, exported to int8 ONNX on first use and cached.

    Passages are tokenised once, sorted by length and batched, so a batch pads to about its own
    length; the model's own `tokenizers` tokenizer truncates at the model's `max_seq_length`.
    """

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.name = self._model_name + BACKEND_SUFFIX
        self._layout: ModelLayout = read_layout(self._folder)
        self._cache = settings.model_cache or default_cache()
        self._session: onnxruntime.InferenceSession | None = None
        self._tokenizer: Tokenizer | None = None
        self._lock = threading.Lock()

    @property
    def dimension(self) -> int:
        return self._layout.dimension

    def load(self) -> tuple[onnxruntime.InferenceSession, Tokenizer]:
        """The runtime session and the tokenizer, made (and the model exported) on first use."""
        with self._lock:
            if self._session is None or self._tokenizer is None:
                import onnxruntime
                from tokenizers import Tokenizer

                path = self.model_path()
                options = onnxruntime.SessionOptions()
                # One query is one small matrix product chain: spread it over every core.
                options.intra_op_num_threads = usable_cores()
                options.inter_op_num_threads = 1
                # Between operators the pool's threads sleep instead of spinning: a server's
                # concurrent searches need those cores (8 clients at a million passages: 88 ms
                # of CPU a search against 119 with spinning; one query alone, about the same).
                options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                self._session = onnxruntime.InferenceSession(
                    str(path), options, providers=["CPUExecutionProvider"]
                )
                tokenizer = Tokenizer.from_file(str(self._layout.folder / "tokenizer.json"))
                # The file's own settings pad and cut at 128; sentence-transformers cuts at the
                # model's max_seq_length and pads each batch to its longest text.
                tokenizer.no_padding()
                tokenizer.enable_truncation(self._layout.max_seq_length)
                self._tokenizer = tokenizer
            return self._session, self._tokenizer

    def model_path(self) -> Path:
        """The cached int8 ONNX file, exported now if absent or damaged."""
        return cached_model(self._layout, self._cache)

    def _encode(self, texts: list[str], *, queries: bool) -> Vectors:
        session, tokenizer = self.load()
        encodings = tokenizer.encode_batch(texts)
        order = np.argsort([len(e.ids) for e in encodings], kind="stable")
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(order), self._batch_size):
            batch = order[start : start + self._batch_size]
            feed = padded([encodings[i] for i in batch])
            vectors[batch] = session.run(None, feed)[0]
        return vectors


def padded(encodings: list[Encoding]) -> dict[str, np.ndarray]:
    """The model's three inputs for a batch, padded with zeros (BERT's [PAD] id, masked out)."""
    width = max(len(e.ids) for e in encodings)
    arrays = {name: np.zeros((len(encodings), width), dtype=np.int64) for name in INPUTS}
    for row, encoding in enumerate(encodings):
        length = len(encoding.ids)
        arrays["input_ids"][row, :length] = encoding.ids
        arrays["attention_mask"][row, :length] = encoding.attention_mask
        arrays["token_type_ids"][row, :length] = encoding.type_ids
    return arrays
