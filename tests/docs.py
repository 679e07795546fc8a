"""Test documents made on the spot: PDFs (multi-page, scanned, encrypted, corrupt) and text."""

from __future__ import annotations

import io
from pathlib import Path

from fpdf import FPDF
from PIL import Image
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
