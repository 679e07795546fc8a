"""What a PDF's layout says beyond its text: its title, and the lines that run on every page.

A PDF's title is its /Title when that names the document, else the largest heading on its
first pages (pypdf's `visitor_text` gives every run of text its font size and position). A
running header or footer ("LATIN AMERICA & THE CARIBBEAN" atop every page, "Page | 3") is
never the title, and is left out of the pages' text.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from pypdf import PageObject

# A line that is only a page label ("12", "Page 3 of 5", "Page | 1", "- 7 -", "3 / 12").
PAGE_LABEL = (
    r"page[ \t]*[|:]?[ \t]*\d{1,4}(?:[ \t]*(?:of|/)[ \t]*\d{1,4})?|\d{1,4}[ \t]*\|[ \t]*page"
    r"|[-–]?[ \t]*\d{1,3}[ \t]*[-–]?|\d{1,3}[ \t]*(?:of|/)[ \t]*\d{1,3}"
)
PAGE_NUMBER_LINE = re.compile(
    rf"^[ \t]*(?:{PAGE_LABEL})[ \t]*(?:\n|$)", re.IGNORECASE | re.MULTILINE
)
PAGE_LABEL_ONLY = re.compile(rf"(?:{PAGE_LABEL})", re.IGNORECASE)
# A page label within a longer line: one that says "page", or "N of M".
PAGE_LABEL_IN_LINE = re.compile(
    r"page[ \t]*[|:]?[ \t]*\d{1,4}(?:[ \t]*(?:of|/)[ \t]*\d{1,4})?|\d{1,4}[ \t]*\|[ \t]*page"
    r"|\b\d{1,4}[ \t]*(?:of|/)[ \t]*\d{1,4}\b",
    re.IGNORECASE,
)
# A /Title that names no document: a word processor's placeholder or a file name.
PLACEHOLDER_TITLE = re.compile(
    r"^(?:untitled\W*\d*|title|document\s*\d*|doc\d*|presentation\s*\d*|powerpoint presentation"
    r"|slide\s*\d+|microsoft word|new document|\W*)$",
    re.IGNORECASE,
)
FILE_NAME_TITLE = re.compile(
    r"^microsoft (?:word|powerpoint|excel) - |\.(?:docx?|pdf|pptx?|xlsx?|indd|rtf|odt|txt|pub)$",
    re.IGNORECASE,
)
# Section labels that head many documents' first page without naming any of them.
SECTION_LABELS = frozenset(
    {
        "highlights",
        "key messages",
        "key message",
        "key figures",
        "contents",
        "table of contents",
        "summary",
        "executive summary",
        "introduction",
        "overview",
        "situation overview",
        "in numbers",
        "background",
        "abstract",
        "foreword",
        "preface",
    }
)
WORD = re.compile(r"[^\W_]+")
MAX_TITLE_WORDS = 25
MIN_TITLE_LETTERS = 3
TITLE_SCALE = 1.3  # a title is drawn at least this much larger than the page's body text
SECTION_HEADINGS = 3
COVER_CHARS = 20  # a first page with less text than this is a cover: the title may follow
RUNNING_MAX_WORDS = 15
EDGE_LINES = 3  # lines at the top and at the foot of a page where running lines are looked for
# Scattered words: a page whose every word is on a line of its own, between whitespace-only
# lines (some PDF producers place each word separately); past these shares it is mended.
SCATTERED_MIN_LINES = 20
SCATTERED_SHARE = 0.7
BLANK_RUN = re.compile(r"\n(?:[^\S\n]*\n)+")


@dataclass(frozen=True)
class Run:
    """A run of text as drawn: its rendered font size (points) and baseline height."""

    text: str
    size: float
    y: float


def page_runs(page: PageObject) -> tuple[str, list[Run]]:
    """A page's text, and its runs of text with their sizes."""
    runs: list[Run] = []

    def visit(
        text: str, cm: Sequence[float], tm: Sequence[float], font: object, size: float
    ) -> None:
        if not text.strip():
            return
        # The text matrix times the current transformation: its second column scales the
        # font vertically, its last row places the baseline.
        c = tm[2] * cm[0] + tm[3] * cm[2]
        d = tm[2] * cm[1] + tm[3] * cm[3]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        runs.append(Run(text, abs(size) * math.hypot(c, d), y))

    text = page.extract_text(visitor_text=visit) or ""
    return text, runs


def mend_scattered_words(text: str) -> str:
    """A page drawn word by word ("damage,\\n \\nand\\n \\nabout") as lines of text: one
    whitespace-only line between two words is a space, more are a line break."""
    lines = text.split("\n")
    words = [line for line in lines if line.strip()]
    if len(words) < SCATTERED_MIN_LINES:
        return text
    single = sum(1 for line in words if len(line.split()) == 1)
    blank = len(lines) - len(words)
    if single < SCATTERED_SHARE * len(words) or blank < SCATTERED_SHARE * len(words):
        return text
    return BLANK_RUN.sub(lambda m: " " if m.group().count("\n") == 2 else "\n", text)


def line_key(line: str) -> str:
    """A line as compared across pages: case, spacing and page labels aside ("Page 3" =
    "Page 4", "Weekly update | Page 3" = "Weekly update | Page 4"). Other numbers count:
    "Article 2" and "Article 3" are headings, not one running line."""
    text = " ".join(line.split()).casefold()
    if PAGE_NUMBER_LINE.fullmatch(text):
        return "#"
    return PAGE_LABEL_IN_LINE.sub("#", text)


def edge_lines(text: str) -> list[str]:
    """The lines a running header or footer can be: the first and last few of a page."""
    lines = text.split("\n")
    return [lines[i] for i in sorted(_edge_positions(lines))]


def _edge_positions(lines: Sequence[str]) -> set[int]:
    """Where the first and last few non-blank lines of a page are."""
    filled = [i for i, line in enumerate(lines) if line.strip()]
    return set(filled[:EDGE_LINES] + filled[-EDGE_LINES:])


def running_lines(texts: Sequence[str], min_pages: int) -> frozenset[str]:
    """Keys of the short lines found at the top or foot of at least `min_pages` pages and half
    of them (a sentence a page repeats within its body is its text)."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update({line_key(line) for line in edge_lines(text)})
    least = max(min_pages, math.ceil(len(texts) / 2))
    return frozenset(
        key
        for key, count in counts.items()
        if count >= least and len(key.split()) <= RUNNING_MAX_WORDS
    )


def drop_running_lines(text: str, running: frozenset[str], min_chars: int) -> str:
    """The page without its running lines, unless that leaves it fewer than `min_chars`
    characters: a line on every page that is all a page holds is its text, not its header."""
    if not running:
        return text
    lines = text.split("\n")
    edges = _edge_positions(lines)
    kept = "\n".join(
        line for i, line in enumerate(lines) if i not in edges or line_key(line) not in running
    )
    return kept if sum(1 for c in kept if not c.isspace()) >= min_chars else text


def choose_title(
    declared: str | None,
    drawn: Sequence[tuple[str, Sequence[Run]]],
    running: frozenset[str],
) -> str | None:
    """The PDF's /Title if it names this document, else the largest heading of its first
    page (or of the next, after a cover that is only an image), else None.

    Args:
        declared: the /Title of the PDF's metadata, if any.
        drawn: its first pages, each as its text and its runs of text (`page_runs`).
        running: keys of lines repeated across pages (`running_lines`).
    """
    if declared is not None and _names_document(declared, [text for text, _ in drawn]):
        return " ".join(declared.split())
    for text, runs in drawn:
        heading = largest_heading(text, runs, running)
        if heading is not None or sum(1 for c in text if not c.isspace()) >= COVER_CHARS:
            return heading  # a later page is looked at only past a cover without text
    return None


def largest_heading(text: str, runs: Sequence[Run], running: frozenset[str]) -> str | None:
    """The text drawn largest on a page, well above its body's size and in a size of its own
    (not one of three section headings); a short one ("HAITI") is
    followed by the heading just below it when that is nearly as large ("HAITI: Flash Update
    No. 1"). Spelt as in the page's `text`, whose spacing pypdf worked out from positions."""
    if not runs:
        return None
    sizes: Counter[float] = Counter()
    for run in runs:
        sizes[round(run.size, 1)] += len(run.text)
    body = sizes.most_common(1)[0][0]
    segments = [s for s in _segments(runs) if s.size >= TITLE_SCALE * body]
    candidates = [s for s in segments if _could_be_title(s.text, running)]
    # Three or more headings of one size are the page's sections ("HIGHLIGHTS", "SITUATION
    # OVERVIEW", ...), however large: a title's size is its own.
    per_size = Counter(round(s.size) for s in segments if _letters(s.text) >= MIN_TITLE_LETTERS)
    titles = [s for s in candidates if per_size[round(s.size)] < SECTION_HEADINGS]
    if not titles:
        return None
    best = max(titles, key=lambda segment: segment.size)
    below = [
        segment
        for segment in candidates
        if segment.y < best.y
        and best.y - segment.y <= 3.5 * best.size
        and segment.size >= 0.6 * best.size
    ]
    title = _as_in(text, best.text)
    if below and len(title.split()) <= 6:
        subtitle = max(below, key=lambda segment: segment.y)
        return f"{title.rstrip(' :')}: {_as_in(text, subtitle.text)}"
    return title


def _as_in(text: str, drawn: str) -> str:
    """`drawn` as the page's text spells it: runs carry no spaces between them, the text
    does. Compared without whitespace; `drawn` itself if the text does not hold it."""
    kept = [i for i, c in enumerate(text) if not c.isspace()]
    squashed = "".join(text[i] for i in kept)
    at = squashed.find("".join(drawn.split()))
    if at < 0:
        return drawn
    end = at + len("".join(drawn.split())) - 1
    return " ".join(text[kept[at] : kept[end] + 1].split())


def _segments(runs: Sequence[Run]) -> list[Run]:
    """Runs joined while their size holds and lines follow closely: a heading's lines, placed
    at its first line."""
    joined: list[tuple[Run, float]] = []  # each segment with its last line's height
    for run in runs:
        if joined:
            last, bottom = joined[-1]
            gap = abs(bottom - run.y)
            if abs(last.size - run.size) <= 0.05 * run.size and gap <= 1.6 * run.size:
                joint = "" if gap < 0.1 * run.size else " "
                joined[-1] = (Run(last.text + joint + run.text, last.size, last.y), run.y)
                continue
        joined.append((run, run.y))
    return [Run(" ".join(s.text.split()), s.size, s.y) for s, _ in joined]


def _could_be_title(text: str, running: frozenset[str]) -> bool:
    key = line_key(text)
    return (
        _letters(text) >= MIN_TITLE_LETTERS
        and len(text.split()) <= MAX_TITLE_WORDS
        and not PAGE_LABEL_ONLY.fullmatch(text.strip())
        and key not in running
        and key.strip(" :") not in SECTION_LABELS
    )


def _letters(text: str) -> int:
    return sum(1 for c in text if c.isalpha())


def _names_document(title: str, texts: Sequence[str]) -> bool:
    """Not a placeholder, a file name or a slug, and at least half its words are on its first
    pages (the name of the software that made it, or of another document, is not)."""
    title = " ".join(title.split())
    if PLACEHOLDER_TITLE.match(title) or FILE_NAME_TITLE.search(title):
        return False
    if " " not in title and re.search(r"[-_.\d]", title):
        return False  # "ht-fso-2025-10": a file's name, not a title
    words = {w for w in WORD.findall(title.casefold()) if len(w) > 1 or w.isdigit()}
    found = set(WORD.findall(" ".join(texts).casefold()))
    return bool(words) and len(words & found) >= 0.5 * len(words)
