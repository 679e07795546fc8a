"""Which embedding backend the settings name: torch (sentence-transformers) or int8 ONNX."""

from __future__ import annotations

from kb.embedding.embedder import Embedder, TorchEmbedder
from kb.settings import Settings


def make_embedder(settings: Settings) -> Embedder:
    """The backend the `embedder` setting names."""
    if settings.embedder == "onnx":
        # onnxruntime loads only for this backend.
        from kb.embedding.onnx_embedder import OnnxEmbedder

        return OnnxEmbedder(settings)
    return TorchEmbedder(settings)
