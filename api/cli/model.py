"""`kb model export`: prepare the int8 ONNX model ahead of its first use."""

from __future__ import annotations

import time

from api.cli.base import Context, cli, json_option, pass_context
from api.cli.terminal import err, print_json
from kb.embedding.onnx_embedder import OnnxEmbedder


@cli.group()
def model() -> None:
    """The embedding model's ONNX export (KB_EMBEDDER=onnx)."""


@model.command(name="export")
@json_option
@pass_context
def export(ctx: Context, as_json: bool) -> None:
    """Export the model (KB_MODEL) to int8 ONNX in the model cache (KB_MODEL_CACHE), or check
    the cached file's hash and keep it; a damaged file is exported again. Never downloads."""
    started = time.perf_counter()
    embedder = OnnxEmbedder(ctx.settings)
    path = embedder.model_path()
    seconds = time.perf_counter() - started
    if as_json:
        print_json({"model": embedder.name, "path": str(path), "seconds": round(seconds, 2)})
    else:
        err.print(f"{embedder.name}: {path} ({seconds:.1f} s)")
