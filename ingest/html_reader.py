"""HTML files to text: BeautifulSoup (with lxml) parses, finds the encoding and the title.

Scripts, styles, navigation and forms are dropped; h1-h6 become Markdown heading lines, which
the chunker turns into passage headings; block elements become paragraphs. A web page is
one page.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, UnicodeDammit
from bs4.element import NavigableString, PreformattedString, Tag

from ingest.chunking import Page
from ingest.content import Content
from kb.errors import CorruptFileError, EmptyInputError

DROPPED = (
    "script",
    "style",
    "noscript",
    "template",
    "nav",
    "svg",
    "iframe",
    "object",
    "embed",
    "form",
    "button",
    "select",
    "head",
)
HEADINGS = {f"h{level}": level for level in range(1, 7)}
BLOCKS = (
    "p",
    "div",
    "section",
    "article",
    "main",
    "aside",
    "header",
    "footer",
    "blockquote",
    "pre",
    "ul",
    "ol",
    "li",
    "dl",
    "dt",
    "dd",
    "table",
    "thead",
    "tbody",
    "tr",
    "figure",
    "figcaption",
    "address",
    "hr",
    "caption",
    "details",
    "summary",
    "body",
)
CELLS = ("td", "th")
SPACES = re.compile(r"[ \t\r\n\f\v]+")
BLANK_LINES = re.compile(r"\n\s*\n\s*")
# A DOCTYPE with an internal subset (`<!DOCTYPE x [ <!ENTITY ...> ]>`) at the start: HTML
# parsers end the DOCTYPE at its first ">" and read the rest of the subset as body text. Only
# the prolog is looked at (one anchored match), and quoted values may hold "]" or ">". Every
# alternative starts differently, so a file built to make it backtrack costs linear time.
QUOTED = r"\"[^\"]*\"|'[^']*'"
COMMENT = r"<!--(?:[^-]|-(?!->))*-->"
DOCTYPE_SUBSET = re.compile(
    rf"\A(\ufeff?\s*(?:<\?[^>]*>\s*|{COMMENT}\s*)*)"
    rf"<!DOCTYPE\b(?:[^\[>\"']|{QUOTED})*\[(?:[^\]\"']|{QUOTED})*\]\s*>",
    re.IGNORECASE,
)
HEADING_MARK = "\x01"  # a control character no text keeps: marks our heading lines


def read_html(name: str, data: bytes) -> Content:
    """The text of a web page with its headings as Markdown lines, and its <title>."""
    if not data.strip():
        raise EmptyInputError(name, "the file is empty")
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CorruptFileError(name, "binary content in an HTML file")
    try:
        soup = BeautifulSoup(_markup(data), "lxml")
        title = _title(soup)
        for tag in soup.find_all(DROPPED):
            tag.decompose()
        text = _text(soup)
    except (ValueError, RecursionError) as exc:
        raise CorruptFileError(name, f"the HTML cannot be parsed ({exc})") from exc
    if not text.strip():
        raise EmptyInputError(name, "the page has no text")
    return Content((Page(1, text),), title)


def _markup(data: bytes) -> str | bytes:
    """The page's markup with any internal DTD subset cut out (decoded as BeautifulSoup would
    decode it, from a BOM, a declared charset or a guess)."""
    markup = UnicodeDammit(data, is_html=True).unicode_markup
    if markup is None:
        return data  # no decoding found: BeautifulSoup makes of it what it can
    return DOCTYPE_SUBSET.sub(r"\1", markup, count=1)


def _title(soup: BeautifulSoup) -> str | None:
    for tag in (soup.title, soup.find("h1")):
        if tag is not None:
            text = " ".join(tag.get_text(" ").split())
            if text:
                return text
    return None


def _text(soup: BeautifulSoup) -> str:
    # Whitespace in HTML source is not layout: collapse it, except inside <pre>.
    for string in list(soup.find_all(string=True)):
        if isinstance(string, PreformattedString) or string.find_parent("pre") is not None:
            continue
        string.replace_with(SPACES.sub(" ", str(string).replace(HEADING_MARK, "")))
    for heading in soup.find_all(list(HEADINGS)):
        text = " ".join(heading.get_text(" ").split())
        mark = f"{HEADING_MARK}{HEADINGS[heading.name]}"
        heading.replace_with(NavigableString(f"\n\n{mark} {text}\n\n" if text else ""))
    for tag in soup.find_all("br"):
        tag.replace_with(NavigableString("\n"))
    for tag in soup.find_all(BLOCKS):
        _surround(tag, "\n\n")
    for tag in soup.find_all(CELLS):
        tag.insert_after(NavigableString(" | "))
    lines = (line.strip(" |") for line in soup.get_text().split("\n"))
    body = "\n".join(_unmark(line) for line in lines)
    return BLANK_LINES.sub("\n\n", body).strip()


def _surround(tag: Tag, mark: str) -> None:
    tag.insert_before(NavigableString(mark))
    tag.insert_after(NavigableString(mark))


def _unmark(line: str) -> str:
    """Our heading marks become Markdown headings; a body line starting with "#" must not."""
    if line.startswith(HEADING_MARK):
        return "#" * int(line[1]) + line[2:]
    return line.lstrip("#").lstrip() if line.startswith("#") else line
