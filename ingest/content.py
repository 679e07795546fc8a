"""What a reader returns and what it is told: shared by every reader and the parsing worker."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from ingest.chunking import Page

# Whitespace within a line (tabs, no-break and other Unicode spaces, stray form feeds): one
# space. Lines keep their breaks; a blank line is a paragraph break, more than one is one.
INLINE_SPACES = re.compile(r"[^\S\n]+")
BLANK_LINES = re.compile(r"\n{3,}")


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


def tidy_text(text: str) -> str:
    """Text with Unix line ends, single spaces, no spaces at line ends or starts, and at most
    one blank line in a row: what passages, snippets and offsets are cut from."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = INLINE_SPACES.sub(" ", text).replace(" \n", "\n").replace("\n ", "\n")
    return BLANK_LINES.sub("\n\n", text).strip()


def tidy_content(content: Content) -> Content:
    """Every page of a reader's content tidied (`tidy_text`), and its title on one line."""
    pages = tuple(replace(page, text=tidy_text(page.text)) for page in content.pages)
    title = " ".join(content.title.split()) if content.title else None
    return Content(pages, title or None)
