"""A sentence-transformers model folder as the ONNX backend reads it: its inputs, and the layout
(transformer, mean pooling, normalisation) checked before anything is exported or run."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from kb.errors import InvalidRequestError

INPUTS = ("input_ids", "attention_mask", "token_type_ids")
# What the ONNX graph reproduces: a transformer, mean pooling, L2 normalisation.
EXPECTED_MODULES = (
    "sentence_transformers.models.Transformer",
    "sentence_transformers.models.Pooling",
    "sentence_transformers.models.Normalize",
)
SOURCE_FILES = ("config.json", "model.safetensors", "tokenizer.json", "modules.json")


@dataclass(frozen=True)
class ModelLayout:
    """What the sentence-transformers folder says about how to embed with it."""

    folder: Path
    max_seq_length: int
    dimension: int


def read_layout(folder: Path) -> ModelLayout:
    """The folder's modules, checked to be exactly transformer → mean pooling → normalise.

    Raises InvalidRequestError naming the folder and the reason otherwise."""
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
        kinds = tuple(m["type"] for m in modules)
        pooling_path = folder / next(m["path"] for m in modules if m["type"].endswith("Pooling"))
        pooling = json.loads((pooling_path / "config.json").read_text(encoding="utf-8"))
        bert = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, StopIteration) as exc:
        raise InvalidRequestError(
            f"{folder}: not a sentence-transformers model folder the ONNX backend can read ({exc})"
        ) from exc
    means = [k for k, v in pooling.items() if k.startswith("pooling_mode") and v]
    if kinds != EXPECTED_MODULES or means != ["pooling_mode_mean_tokens"]:
        raise InvalidRequestError(
            f"{folder}: the ONNX backend embeds with transformer, mean pooling and normalisation "
            f"only; this model has {list(kinds)} with {means} (use KB_EMBEDDER=torch)"
        )
    dimension = int(pooling["word_embedding_dimension"])
    return ModelLayout(folder, int(bert["max_seq_length"]), dimension)
