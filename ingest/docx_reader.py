"""Word (.docx) files to pages: python-docx reads the body in order, paragraphs and tables.

Heading styles ("Heading 1".."Heading 9", "Title") become Markdown heading lines, which the
chunker turns into passage headings. Word saves where its layout broke pages
(rendered page breaks); those number the pages. A file Word never laid out (generated ones)
is paged at its hard page breaks instead.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator

import docx
from docx.document import Document as DocxDocument
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table
from docx.text.paragraph import Paragraph
from lxml.etree import LxmlError

from ingest.chunking import Page
from ingest.content import Content
from kb.errors import CorruptFileError, EmptyInputError, EncryptedError

HEADING_STYLE = re.compile(r"^heading\s+([1-9])$", re.IGNORECASE)
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # a compound file: legacy .doc or encrypted .docx
# An encrypted .docx is a compound file holding this stream (its name is stored in UTF-16).
ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
HARD_PAGE_BREAK = "./w:r/w:br[@w:type='page']"


def read_docx(name: str, data: bytes) -> Content:
    """Pages of a Word file with its headings as Markdown lines; refuses what is not .docx."""
    if not data.strip():
        raise EmptyInputError(name, "the file is empty")
    if data.startswith(OLE_MAGIC):
        if ENCRYPTED_STREAM in data:
            raise EncryptedError(name, "the Word file is encrypted and needs a password")
        raise CorruptFileError(
            name, "an old binary Word (.doc) file, not .docx; save it as .docx and ingest that"
        )
    try:
        document = docx.Document(io.BytesIO(data))
        pages = _pages(document)
        title = (document.core_properties.title or "").strip() or None
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, LxmlError) as exc:
        raise CorruptFileError(name, f"not a readable .docx file ({exc})") from exc
    if not any(page.strip() for page in pages):
        raise EmptyInputError(name, "the Word file has no text")
    return Content(tuple(Page(i, text) for i, text in enumerate(pages, start=1)), title)


def _pages(document: DocxDocument) -> list[str]:
    rendered = any(p.contains_page_break for p in _paragraphs(document))
    pages: list[list[str]] = [[]]
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            pages[-1].extend(_table_rows(block))
            continue
        if _starts_page(block, rendered) and any(pages[-1]):
            pages.append([])
        line = _line(block)
        if line:
            pages[-1].append(line)
    # Paragraphs are blocks for the chunker: separated by blank lines.
    return ["\n\n".join(lines) for lines in pages]


def _paragraphs(document: DocxDocument) -> Iterator[Paragraph]:
    yield from document.paragraphs
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                yield from cell.paragraphs


def _starts_page(paragraph: Paragraph, rendered: bool) -> bool:
    if rendered:
        return paragraph.contains_page_break
    # python-docx exposes no hard breaks; its oxml element answers the XPath.
    return bool(paragraph._p.xpath(HARD_PAGE_BREAK))


def _line(paragraph: Paragraph) -> str:
    text = " ".join(paragraph.text.split())
    if not text:
        return ""
    level = _heading_level(paragraph)
    if level:
        return f"{'#' * level} {text}"
    # A body line that happens to start with "#" must not turn into a heading.
    return text.lstrip("#").lstrip() or text


def _heading_level(paragraph: Paragraph) -> int:
    try:
        style = paragraph.style.name if paragraph.style is not None else ""
    except (KeyError, ValueError):
        return 0
    if not style:
        return 0
    if style.lower() == "title":
        return 1
    match = HEADING_STYLE.match(style)
    return min(int(match.group(1)), 6) if match else 0


def _table_rows(table: Table) -> list[str]:
    """One line per row, cells joined by " | ", merged cells once."""
    rows: list[str] = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = " ".join(cell.text.split())
            if text and (not cells or cells[-1] != text):
                cells.append(text)
        if cells:
            rows.append(" | ".join(cells))
    return rows
