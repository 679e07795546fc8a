"""Render the sample-corpus PDF sources into real, multi-page PDFs.

Precedent has to ingest PDFs and report *which page* a passage came from, so the
bundled sample corpus needs PDFs whose page boundaries are known in advance.
Each source in ``examples/pdf-sources/NAME.md`` is a small Markdown subset in
which a line containing only ``<!-- page -->`` ends one page and starts the next.
This script renders every source to ``examples/corpus/NAME.pdf`` with exactly
one PDF page per source section, so tests can say "this sentence is on page 2"
by looking at the source alone.

Usage (from the repository root)::

    .venv/bin/python examples/build_pdfs.py            # build all PDFs
    .venv/bin/python examples/build_pdfs.py --verify   # build, then re-read with pypdf

Supported Markdown subset: ``#`` title, ``##`` and ``###`` headings, ``- ``
bullets, and paragraphs separated by blank lines (consecutive lines are joined).
No inline formatting: the text is rendered exactly as written.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

EXAMPLES_DIR = Path(__file__).resolve().parent
SOURCE_DIR = EXAMPLES_DIR / "pdf-sources"
OUTPUT_DIR = EXAMPLES_DIR / "corpus"

PAGE_MARKER = "<!-- page -->"

# A fixed timestamp keeps rebuilds byte-for-byte identical: fpdf2 derives the
# document /ID from the content and the creation date, so using "now" would
# make every rebuild show up as a changed binary in version control.
FIXED_CREATION_DATE = datetime(2025, 1, 1, tzinfo=UTC)

# Core fonts need no font files (nothing to vendor or download) and use a simple
# single-byte encoding that pypdf maps straight back to text, which the
# ingestion tests depend on. The price is that they only cover latin-1.
BODY_FONT = "Helvetica"
BODY_SIZE = 10.5
LINE_HEIGHT = 5.2  # mm; ~1.4x the body size reads comfortably on A4
HEADING_STYLES: dict[str, tuple[float, float]] = {
    # block kind -> (font size in pt, line height in mm)
    "title": (15.0, 7.0),
    "h2": (12.5, 6.2),
    "h3": (11.0, 5.6),
}
BULLET_INDENT = 5.0  # mm
FOOTER_MARGIN = 18.0  # mm reserved at the bottom so body text never hits the footer


@dataclass(frozen=True)
class Block:
    """One renderable unit of a page: a heading, a paragraph or a bullet."""

    kind: str  # "title", "h2", "h3", "para" or "bullet"
    text: str


@dataclass(frozen=True)
class Source:
    """A parsed source file: its document title and its blocks, page by page."""

    stem: str
    title: str
    pages: list[list[Block]]


class SourceError(ValueError):
    """Raised for a source that cannot be rendered faithfully."""


def check_latin1(path: Path, text: str) -> None:
    """Reject characters the core fonts cannot encode.

    Failing here, with a line number, beats fpdf2's generic encoding error deep
    inside rendering, and beats silently substituting characters, which would
    make the PDF text differ from the source that tests quote.
    """
    for lineno, line in enumerate(text.splitlines(), start=1):
        for char in line:
            if ord(char) > 0xFF:
                raise SourceError(
                    f"{path.name}:{lineno}: character {char!r} (U+{ord(char):04X}) "
                    "is not latin-1; use plain ASCII quotes and hyphens"
                )


def parse_blocks(lines: list[str]) -> list[Block]:
    """Group the lines of one page section into blocks."""
    blocks: list[Block] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append(Block("para", " ".join(paragraph)))
            paragraph.clear()

    for raw in lines:
        line = raw.strip()
        if not line:
            flush()
            continue
        heading = re.match(r"^(#{1,3})\s+(.*)$", line)
        if heading:
            flush()
            level = len(heading.group(1))
            kind = {1: "title", 2: "h2", 3: "h3"}[level]
            blocks.append(Block(kind, heading.group(2).strip()))
        elif line.startswith("- "):
            # Bullets are one line each in the sources; each is its own block
            # so it gets its own hanging indent.
            flush()
            blocks.append(Block("bullet", line[2:].strip()))
        else:
            paragraph.append(line)
    flush()
    return blocks


def parse_source(path: Path) -> Source:
    text = path.read_text(encoding="utf-8")
    check_latin1(path, text)
    sections: list[list[str]] = [[]]
    for line in text.splitlines():
        if line.strip() == PAGE_MARKER:
            sections.append([])
        else:
            sections[-1].append(line)
    pages = [parse_blocks(section) for section in sections]
    if any(not page for page in pages):
        # An empty section would still produce a blank PDF page, which is
        # almost certainly a doubled marker rather than intent.
        raise SourceError(f"{path.name}: empty page section (doubled page marker?)")
    first = pages[0][0]
    if first.kind != "title":
        raise SourceError(f"{path.name}: must start with a '# Title' line")
    return Source(stem=path.stem, title=first.text, pages=pages)


class CorpusPDF(FPDF):
    """FPDF with the page-number footer used on every corpus PDF."""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(BODY_FONT, "", 8.5)
        self.set_text_color(110, 110, 110)
        # "{nb}" is fpdf2's alias for the total page count, filled in on output.
        self.cell(0, 5, f"Page {self.page_no()} of {{nb}}", align="C")
        self.set_text_color(0, 0, 0)


def render_block(pdf: CorpusPDF, block: Block) -> None:
    width = pdf.epw
    if block.kind in HEADING_STYLES:
        size, height = HEADING_STYLES[block.kind]
        # Extra space above headings (except at the top of a page) so sections
        # are visually separated without needing rules or numbering.
        if pdf.get_y() > pdf.t_margin + 1:
            pdf.ln(2.5)
        pdf.set_font(BODY_FONT, "B", size)
        pdf.multi_cell(width, height, block.text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1.5)
        return
    pdf.set_font(BODY_FONT, "", BODY_SIZE)
    if block.kind == "bullet":
        pdf.set_x(pdf.l_margin + BULLET_INDENT)
        pdf.multi_cell(
            width - BULLET_INDENT,
            LINE_HEIGHT,
            f"- {block.text}",
            align="L",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        pdf.ln(1.0)
    else:
        pdf.multi_cell(
            width, LINE_HEIGHT, block.text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
        pdf.ln(2.5)


def render(source: Source, out_path: Path) -> int:
    """Render one source; return the number of pages written."""
    pdf = CorpusPDF(orientation="P", unit="mm", format="A4")
    pdf.set_margins(left=22, top=20, right=22)
    # Automatic page breaks stay on so that an overflowing section still shows
    # all its text; the check below then turns that overflow into an error.
    pdf.set_auto_page_break(auto=True, margin=FOOTER_MARGIN)
    pdf.set_title(source.title)
    pdf.set_author("Organization for Regional Security (fictional sample)")
    pdf.set_creator("Precedent examples/build_pdfs.py")
    pdf.set_creation_date(FIXED_CREATION_DATE)

    for index, page in enumerate(source.pages, start=1):
        pdf.add_page()
        for block in page:
            render_block(pdf, block)
        if pdf.page != index:
            # An overflow would silently push every later section one page
            # down and break the page numbers that tests are written against.
            raise SourceError(
                f"{source.stem}: page section {index} does not fit on one page; "
                "shorten it or move a page marker"
            )

    pdf.output(str(out_path))
    return pdf.page


def verify(source: Source, out_path: Path) -> list[str]:
    """Re-read a built PDF and confirm each page holds its own section's text.

    This checks the property the corpus exists for: text extraction works and
    page N of the PDF carries the content of source section N.
    """
    from pypdf import PdfReader  # only needed for --verify

    problems: list[str] = []
    reader = PdfReader(str(out_path))
    if len(reader.pages) != len(source.pages):
        problems.append(f"{out_path.name}: {len(reader.pages)} pages, expected {len(source.pages)}")
        return problems

    def normalise(text: str) -> str:
        return " ".join(text.split())

    for index, (page, blocks) in enumerate(zip(reader.pages, source.pages, strict=True), start=1):
        extracted = normalise(page.extract_text())
        # The last block of a section is the one most likely to be lost if a
        # section spilled over, and the first proves the page starts correctly.
        for block in (blocks[0], blocks[-1]):
            probe = normalise(block.text)[:60]
            if probe not in extracted:
                problems.append(f"{out_path.name} page {index}: missing {probe!r}")
        if f"Page {index} of {len(source.pages)}" not in extracted:
            problems.append(f"{out_path.name} page {index}: footer missing")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source-dir", type=Path, default=SOURCE_DIR)
    parser.add_argument("--output-dir", type=Path, default=OUTPUT_DIR)
    parser.add_argument(
        "--verify", action="store_true", help="re-read each PDF with pypdf and check page text"
    )
    args = parser.parse_args(argv)

    sources = sorted(args.source_dir.glob("*.md"))
    if not sources:
        print(f"no sources found in {args.source_dir}", file=sys.stderr)
        return 1

    args.output_dir.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    for path in sources:
        source = parse_source(path)
        out_path = args.output_dir / f"{source.stem}.pdf"
        pages = render(source, out_path)
        print(f"{out_path}: {pages} pages")
        if args.verify:
            problems.extend(verify(source, out_path))

    for problem in problems:
        print(f"VERIFY FAILED: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
