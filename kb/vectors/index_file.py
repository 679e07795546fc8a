"""The vector index's files: the FAISS file and the JSON header that says which state of the
store it holds (generation, count, dimension, vectors stamp) and its CRC-32, written last."""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any

INDEX_NAME = "index.faiss"
HEADER_NAME = "index.json"
CRC_BLOCK = 1 << 24


def saved_generation(folder: Path) -> int | None:
    """The generation of the index saved in `folder`, from its header alone; None if none."""
    try:
        header = read_header(folder)
    except (OSError, ValueError):
        return None
    return None if header is None else int(header["generation"])


def read_header(folder: Path) -> dict[str, Any] | None:
    header = json.loads((folder / HEADER_NAME).read_text())
    numbers = ("generation", "dimension", "count", "crc32")
    whole = isinstance(header, dict) and all(isinstance(header.get(n), int) for n in numbers)
    return header if whole else None


def file_crc32(path: Path) -> int:
    """CRC-32 of a file, read a block at a time (the index may be larger than spare memory)."""
    crc = 0
    with path.open("rb") as file:
        while block := file.read(CRC_BLOCK):
            crc = zlib.crc32(block, crc)
    return crc
