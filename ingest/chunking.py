"""Cutting pages into passages: a pure function, paragraph- and heading-aware.

Readers hand headings over as Markdown `# Heading` lines (Word and HTML headings included);
plain-text headings are recognised by their shape.

A document's text is its pages joined by form feeds; every passage records the span
(`char_start`, `char_end`) it came from in that text, its pages and its heading.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from kb.models import ChunkDraft

PAGE_SEPARATOR = "\f"

BLOCK = re.compile(r"(?:[^\n]|\n(?![ \t]*\n))+")  # runs of text between blank lines
LINE = re.compile(r"[^\n]+")
# A sentence ends at . ! or ? (a closing quote or bracket may follow) before a capital or digit.
SENTENCE_BREAK = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"')\]]))\s+(?=[\"'(\[]?[A-Z0-9])")
MARKDOWN_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$")
KEYWORD_HEADING = re.compile(
    r"^(article|chapter|section|part|annex|appendix|protocol|schedule)\s+([0-9]+|[IVXLC]+|[A-Z])\b",
    re.IGNORECASE,
)
NUMBERED_HEADING = re.compile(r"^(\d+(\.\d+)*\.?|[IVX]+\.|[A-H]\.)\s+\S")
MAX_HEADING_WORDS = 12


@dataclass(frozen=True)
class Page:
    """The text of one page; `number` counts from 1."""

    number: int
    text: str
    ocr: bool = False  # recognised from the page's image (OCR), not read from a text layer


@dataclass(frozen=True)
class _Unit:
    text: str
    page: int
    start: int
    end: int
    paragraph: int
    words: int
    ocr: bool


def document_text(pages: Sequence[Page]) -> str:
    return PAGE_SEPARATOR.join(page.text for page in pages)


def chunk_pages(
    pages: Sequence[Page], chunk_words: int = 150, overlap_words: int = 25
) -> tuple[ChunkDraft, ...]:
    """Passages of about `chunk_words` words that never cross a heading; neighbours within
    a section share about `overlap_words` words of whole sentences."""
    chunks: list[ChunkDraft] = []
    current: list[_Unit] = []
    fresh = False  # does `current` hold anything not already in a passage?
    heading: str | None = None

    def flush(keep_overlap: bool) -> None:
        nonlocal current, fresh
        if fresh:
            chunks.append(_draft(len(chunks), current, heading))
        carried: list[_Unit] = []
        if keep_overlap and fresh:
            total = 0
            for unit in reversed(current[1:]):  # never carry the whole passage
                if total + unit.words > overlap_words:
                    break
                carried.insert(0, unit)
                total += unit.words
        current, fresh = carried, False

    for item in _units(pages, chunk_words):
        if isinstance(item, str):
            flush(keep_overlap=False)
            heading = item
            continue
        if fresh and sum(u.words for u in current) + item.words > chunk_words:
            flush(keep_overlap=True)
        while current and sum(u.words for u in current) + item.words > chunk_words:
            current.pop(0)  # the overlap gives way before a passage outgrows the limit
        current.append(item)
        fresh = True
    flush(keep_overlap=False)
    return tuple(chunks)


def _draft(ordinal: int, units: list[_Unit], heading: str | None) -> ChunkDraft:
    parts: list[str] = []
    for previous, unit in zip([None, *units[:-1]], units, strict=True):
        if previous is not None:
            parts.append(" " if previous.paragraph == unit.paragraph else "\n\n")
        parts.append(unit.text)
    return ChunkDraft(
        ordinal=ordinal,
        text="".join(parts),
        heading=heading,
        page_start=units[0].page,
        page_end=units[-1].page,
        char_start=units[0].start,
        char_end=units[-1].end,
        ocr=any(unit.ocr for unit in units),  # a passage touching an OCR'd page is OCR text
    )


def _units(pages: Sequence[Page], max_words: int) -> Iterator[_Unit | str]:
    """Sentences (as units) and headings (as strings), in reading order."""
    offset = 0
    paragraph = 0
    for page in pages:
        for block in BLOCK.finditer(page.text):
            lines = list(LINE.finditer(block.group()))
            run_start: int | None = None
            for number, line in enumerate(lines):
                text = line.group().strip()
                previous = lines[number - 1].group().strip() if number else ""
                following = lines[number + 1].group().strip() if number + 1 < len(lines) else ""
                title = heading_of(text, previous, following)
                if title is None:
                    if run_start is None:
                        run_start = line.start()
                    continue
                if run_start is not None:
                    paragraph += 1
                    yield from _sentences(
                        page,
                        block.start() + run_start,
                        block.start() + line.start(),
                        offset,
                        paragraph,
                        max_words,
                    )
                    run_start = None
                yield title
            if run_start is not None:
                paragraph += 1
                yield from _sentences(
                    page, block.start() + run_start, block.end(), offset, paragraph, max_words
                )
        offset += len(page.text) + len(PAGE_SEPARATOR)


def _sentences(
    page: Page, start: int, end: int, offset: int, paragraph: int, max_words: int
) -> Iterator[_Unit]:
    raw = page.text[start:end]
    cursor = 0
    pieces = [*SENTENCE_BREAK.finditer(raw), None]
    for match in pieces:
        stop = match.start() if match is not None else len(raw)
        sentence = raw[cursor:stop]
        if sentence.strip():
            lead = len(sentence) - len(sentence.lstrip())
            s_start = start + cursor + lead
            s_end = start + cursor + len(sentence.rstrip())
            yield from _split_long(
                page, clean(sentence), offset + s_start, offset + s_end, paragraph, max_words
            )
        if match is not None:
            cursor = match.end()


def _split_long(
    page: Page, text: str, start: int, end: int, paragraph: int, max_words: int
) -> Iterator[_Unit]:
    words = text.split(" ")
    if len(words) <= max_words:
        yield _Unit(text, page.number, start, end, paragraph, len(words), page.ocr)
        return
    # A sentence longer than a passage (tables, lists run together): cut by words; the
    # pieces share the sentence's span because cleaned text no longer maps 1:1 to it.
    for first in range(0, len(words), max_words):
        piece = words[first : first + max_words]
        yield _Unit(" ".join(piece), page.number, start, end, paragraph, len(piece), page.ocr)


def clean(text: str) -> str:
    """Join lines, mend words hyphenated across a line break, collapse whitespace."""
    text = re.sub(r"(\w)-\n\s*(\w)", r"\1\2", text)
    return " ".join(text.split())


def heading_of(line: str, previous: str, following: str) -> str | None:
    """The heading a line stands for, or None if it is body text.

    Args:
        line: the line, stripped.
        previous: the line before it in the same block ("" at the start of a block).
        following: the line after it in the same block ("" at the end of a block).
    """
    if not line:
        return None
    markdown = MARKDOWN_HEADING.match(line)
    if markdown:
        return markdown.group(1).strip()
    words = line.split()
    if len(words) > MAX_HEADING_WORDS or line[-1] in ".,;" or line.startswith(("-", "*", "•")):
        return None
    # Body text wraps onto new lines mid-sentence: a heading starts a block or follows a
    # finished sentence, and the next line does not carry on its sentence in lower case.
    if previous and previous[-1] not in ".!?:;":
        return None
    if following and not (following[0].isupper() or following[0].isdigit() or following[0] in "#("):
        return None
    letters = [c for c in line if c.isalpha()]
    if KEYWORD_HEADING.match(line) or (NUMBERED_HEADING.match(line) and len(words) <= 8):
        return line
    if len(letters) >= 4 and all(c.isupper() for c in letters):
        return line
    return None
