"""Readers: from a file's bytes to pages of text, or a clear refusal naming the file.

pypdf reads PDFs (text per page, page numbers kept; pages without a text layer are OCR'd by
`ingest.ocr` when asked); python-docx reads Word files (`ingest.docx_reader`), BeautifulSoup
HTML (`ingest.html_reader`); text and Markdown are decoded here; `.jsonl` files hold records
in BEIR corpus form. All but records are read in a bounded worker (`ingest.sandbox`).
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError, PyPdfError

from ingest.chunking import Page
from ingest.content import Content as Content  # re-exported: callers read Content here
from ingest.content import ReadOptions as ReadOptions
from ingest.content import tidy_content
from ingest.docx_reader import read_docx
from ingest.html_reader import read_html
from ingest.ocr import ENABLE_OCR, recognise_pages, tesseract_available
from ingest.pdf_layout import (
    PAGE_NUMBER_LINE,
    Run,
    choose_title,
    drop_running_lines,
    mend_scattered_words,
    page_runs,
    running_lines,
)
from kb.errors import (
    CorruptFileError,
    EmptyInputError,
    EncryptedError,
    InputError,
    NoTextLayerError,
)

# pypdf reports every oddity of a damaged file on its logger; our caller reports the outcome.
logging.getLogger("pypdf").setLevel(logging.ERROR)

TEXT_SUFFIXES = (".txt", ".md", ".markdown")
PDF_SUFFIXES = (".pdf",)
RECORD_SUFFIXES = (".jsonl",)
DOCX_SUFFIXES = (".docx",)
HTML_SUFFIXES = (".html", ".htm", ".xhtml")
# Formats read in the bounded worker process: every document format (records are read line
# by line, in process).
SANDBOXED_SUFFIXES = PDF_SUFFIXES + DOCX_SUFFIXES + HTML_SUFFIXES + TEXT_SUFFIXES
# Formats whose size is held to KB_MAX_TEXT_MB: their bytes are nearly all text, and every
# few hundred words of it is a passage to embed.
TEXT_LIMITED_SUFFIXES = TEXT_SUFFIXES + HTML_SUFFIXES
SUPPORTED_SUFFIXES = PDF_SUFFIXES + DOCX_SUFFIXES + HTML_SUFFIXES + TEXT_SUFFIXES + RECORD_SUFFIXES
# The media type an original file is served with; fixed here, not guessed from the system's
# mime.types, so every machine serves the same.
MEDIA_TYPES = {
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".html": "text/html",
    ".htm": "text/html",
    ".xhtml": "application/xhtml+xml",
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".markdown": "text/markdown",
}
MIN_CHARS_PER_PAGE = 20  # fewer extracted characters than this: a scanned page, in effect
TITLE_PAGES = 2  # the pages a title is looked for on (a cover may be an image)
RUNNING_MIN_PAGES = 3  # a line repeated on fewer pages is kept: it may be the text's own


@dataclass(frozen=True)
class Record:
    """One BEIR corpus record: a whole document in a line of JSON."""

    record_id: str
    title: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)


def read_pdf(name: str, data: bytes, options: ReadOptions | None = None) -> Content:
    """Pages of a PDF; pages without a text layer are OCR'd if `options.ocr` and Tesseract
    is installed. Refuses empty, corrupt and encrypted files, and scanned ones it cannot OCR."""
    if not data.strip():
        raise EmptyInputError(name, "the file is empty")
    if not data.lstrip()[:1024].startswith(b"%PDF") and b"%PDF" not in data[:1024]:
        raise CorruptFileError(name, "not a PDF (no %PDF header)")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            # Many PDFs are encrypted with an empty user password only to set permissions.
            try:
                reader.decrypt("")
            except (FileNotDecryptedError, PyPdfError, NotImplementedError) as exc:
                raise EncryptedError(name, "the PDF is encrypted and needs a password") from exc
            if not _can_read(reader):
                raise EncryptedError(name, "the PDF is encrypted and needs a password")
        texts: list[str] = []
        runs: list[list[Run]] = []
        for number, page in enumerate(reader.pages):
            if number < TITLE_PAGES:
                text, drawn = page_runs(page)
                runs.append(drawn)
            else:
                text = page.extract_text() or ""
            texts.append(text)
        declared = _pdf_title(reader)
    except InputError:
        raise
    except FileNotDecryptedError as exc:
        raise EncryptedError(name, "the PDF is encrypted and needs a password") from exc
    except (
        PyPdfError,
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
        IndexError,
        RecursionError,
        OSError,
        AssertionError,
        ZeroDivisionError,
    ) as exc:
        raise CorruptFileError(name, f"the PDF is damaged and cannot be read ({exc})") from exc
    if not texts:
        raise EmptyInputError(name, "the PDF has no pages")
    texts = [PAGE_NUMBER_LINE.sub("", mend_scattered_words(_tidy(t))) for t in texts]
    running = running_lines(texts, RUNNING_MIN_PAGES)
    pages = [
        Page(i, drop_running_lines(text, running, MIN_CHARS_PER_PAGE))
        for i, text in enumerate(texts, start=1)
    ]
    title = choose_title(declared, list(zip(texts, runs, strict=False)), running_lines(texts, 2))
    bare = [p.number for p in pages if len(p.text.strip()) < MIN_CHARS_PER_PAGE]
    options = options or ReadOptions()
    if bare and options.ocr and tesseract_available():
        pages = _with_ocr(name, data, pages, bare, options)
        if all(len(p.text.strip()) < MIN_CHARS_PER_PAGE for p in pages):
            raise NoTextLayerError(
                name,
                f"none of its {len(pages)} page(s) has a text layer, and OCR (Tesseract, "
                f"language {options.ocr_language!r}) found no text on them",
            )
    elif len(bare) == len(pages):
        how = ENABLE_OCR if options.ocr else "OCR is off (KB_OCR=off): set KB_OCR=auto to OCR it"
        raise NoTextLayerError(
            name,
            f"none of its {len(pages)} page(s) has a text layer (a scanned document?); {how}",
        )
    return Content(tuple(pages), title)


def _with_ocr(
    name: str, data: bytes, pages: list[Page], bare: list[int], options: ReadOptions
) -> list[Page]:
    """Only pages without a text layer are OCR'd; OCR text replaces a page's scraps of text."""
    recognised = recognise_pages(name, data, bare, options)
    result: list[Page] = []
    for page in pages:
        text = PAGE_NUMBER_LINE.sub("", _tidy(recognised.get(page.number, "")))
        if len(text.strip()) > len(page.text.strip()):
            page = Page(page.number, text, ocr=True)
        result.append(page)
    return result


def _can_read(reader: PdfReader) -> bool:
    try:
        return len(reader.pages) >= 0
    except FileNotDecryptedError:
        return False


def _pdf_title(reader: PdfReader) -> str | None:
    try:
        title = reader.metadata.title if reader.metadata else None
    except PyPdfError:
        return None
    return title.strip() if isinstance(title, str) and title.strip() else None


def read_text(name: str, data: bytes) -> Content:
    """Pages of a text or Markdown file: a form feed starts a new page."""
    text = decode_text(name, data)
    if not text.strip():
        raise EmptyInputError(name, "the file has no text")
    pages = text.split("\f")
    return Content(tuple(Page(i, _tidy(p)) for i, p in enumerate(pages, start=1)))


def decode_text(name: str, data: bytes) -> str:
    if not data.strip():
        raise EmptyInputError(name, "the file is empty")
    if b"\x00" in data[:8192]:
        raise CorruptFileError(name, "binary content in a text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Older archives are often Windows-1252; anything that is not is refused.
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise CorruptFileError(name, f"not UTF-8 or Windows-1252 text ({exc.reason})") from exc


def read_records(name: str, data: bytes) -> Iterator[Record | InputError]:
    """Records of a BEIR-style corpus file; a bad line yields an error and the rest go on."""
    text = decode_text(name, data)
    # Only \n ends a record: JSON text may hold U+2028 and friends unescaped.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{name} line {number}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            yield CorruptFileError(where, f"not valid JSON ({exc.msg})")
            continue
        if not isinstance(raw, dict) or "_id" not in raw:
            yield CorruptFileError(where, 'a record needs an "_id"')
            continue
        body = raw.get("text") or ""
        title = raw.get("title") or ""
        if not isinstance(body, str) or not isinstance(title, str):
            yield CorruptFileError(where, '"title" and "text" must be strings')
            continue
        if not (body.strip() or title.strip()):
            yield EmptyInputError(where, f"record {raw['_id']!r} has no text")
            continue
        metadata = raw.get("metadata")
        yield Record(
            str(raw["_id"]),
            title.strip(),
            body,
            dict(metadata) if isinstance(metadata, dict) else {},
        )


def read_file(path: Path, options: ReadOptions | None = None) -> Content:
    """Pages of one PDF, Word, HTML, text or Markdown file, in this process."""
    return read_bytes(path.name, path.read_bytes(), options)


def read_bytes(name: str, data: bytes, options: ReadOptions | None = None) -> Content:
    """Pages of a file's bytes by its suffix, their whitespace tidied, in this process (no
    limits: see ingest.sandbox)."""
    suffix = Path(name).suffix.lower()
    if suffix in PDF_SUFFIXES:
        content = read_pdf(name, data, options)
    elif suffix in DOCX_SUFFIXES:
        content = read_docx(name, data)
    elif suffix in HTML_SUFFIXES:
        content = read_html(name, data)
    else:
        content = read_text(name, data)
    return tidy_content(content)


def _tidy(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")
