"""What a reader returns and what it is told: shared by every reader and the parsing worker."""

from __future__ import annotations

from dataclasses import dataclass

from ingest.chunking import Page


@dataclass(frozen=True)
class Content:
    """What a reader found in one file: its pages and any title it declares."""

    pages: tuple[Page, ...]
    title: str | None = None


@dataclass(frozen=True)
class ReadOptions:
    """How to read: whether pages without a text layer are OCR'd, in which language, at what
    resolution. Off by default so a bare reader call never starts Tesseract."""

    ocr: bool = False
    ocr_language: str = "eng"
    ocr_dpi: int = 300
