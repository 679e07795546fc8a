"""Test documents made on the spot: PDFs (multi-page, scanned, encrypted, corrupt), Word
files and text."""

from __future__ import annotations

import io
from pathlib import Path

import docx
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont
from pypdf import PdfReader, PdfWriter


def make_pdf(pages: list[str], title: str | None = None) -> bytes:
    """A PDF with one page per string, with a real text layer."""
    pdf = FPDF()
    if title:
        pdf.set_title(title)
    pdf.set_font("Helvetica", size=11)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 6, text)
    return bytes(pdf.output())


def make_scanned_pdf(page_count: int = 2) -> bytes:
    """Pages that are only pictures: what a scanner without OCR produces."""
    pdf = FPDF()
    picture = Image.new("RGB", (400, 300), "white")
    for x in range(40, 360, 6):
        for y in range(40, 260, 12):
            picture.putpixel((x, y), (0, 0, 0))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    for _ in range(page_count):
        pdf.add_page()
        pdf.image(io.BytesIO(buffer.getvalue()), x=10, y=10, w=180)
    return bytes(pdf.output())


def make_encrypted_pdf(password: str, pages: list[str]) -> bytes:
    """AES-256 encrypted; with password "" it opens for anyone (permissions only)."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf(pages))))
    writer.encrypt(user_password=password, owner_password="owner-secret", algorithm="AES-256")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def make_corrupt_pdf() -> bytes:
    """A PDF cut off after its header: what a failed download leaves."""
    return make_pdf(["Anything at all here."])[:60]


def write(folder: Path, name: str, data: bytes | str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


def make_image_pdf(pages: list[list[str]]) -> bytes:
    """A scan of printed lines: each page one picture of black text on white, no text layer."""
    pdf = FPDF()
    font = ImageFont.load_default(size=40)
    for lines in pages:
        picture = Image.new("L", (1654, 2339), 255)  # A4 at 200 dpi
        draw = ImageDraw.Draw(picture)
        for row, line in enumerate(lines):
            draw.text((150, 150 + 70 * row), line, fill=0, font=font)
        buffer = io.BytesIO()
        picture.save(buffer, format="PNG")
        pdf.add_page()
        pdf.image(buffer, x=0, y=0, w=210, h=297)
    return bytes(pdf.output())


def make_docx(blocks: list[tuple[str, str]], title: str | None = None) -> bytes:
    """A Word file from (kind, text) blocks: kind is "h1".."h6", "p", "title", "break" or
    "table" (rows split by ";", cells by "|")."""
    document = docx.Document()
    if title:
        document.core_properties.title = title
    for kind, text in blocks:
        if kind == "title":
            document.add_heading(text, 0)
        elif kind.startswith("h"):
            document.add_heading(text, int(kind[1:]))
        elif kind == "break":
            document.add_page_break()
        elif kind == "table":
            rows = [row.split("|") for row in text.split(";")]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    table.cell(r, c).text = cell
        else:
            document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
