"""OCR speed: pages per minute through the bounded worker (pypdfium2 + Tesseract).

    .venv/bin/python bench/ocr.py [--corpus DIR] [--pages N]

Two sets: the scanned files of ../shared/corpora/pdf-robustness (manifest tags "scanned" or
"image-only") and N generated A4 pages of printed text (200 dpi images, no text layer). One
worker for all, as in ingest. Prints a Markdown table to paste into bench/RESULTS.md.
Not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import csv
import io
import platform
import shutil
import sys
import time
from pathlib import Path

from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.readers import ReadOptions  # noqa: E402
from ingest.sandbox import Limits, Sandbox  # noqa: E402
from kb.errors import InputError  # noqa: E402
from kb.settings import Settings  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpora" / "pdf-robustness"
LINE = "Article {n}. The Parties agree that unarmed observers shall monitor the ceasefire."


def generated_scan(pages: int) -> bytes:
    """A4 pages at 200 dpi, 30 lines of printed text each, as images only."""
    pdf = FPDF()
    font = ImageFont.load_default(size=32)
    for page in range(pages):
        picture = Image.new("L", (1654, 2339), 255)
        draw = ImageDraw.Draw(picture)
        for row in range(30):
            draw.text((120, 150 + 66 * row), LINE.format(n=page * 30 + row + 1), fill=0, font=font)
        buffer = io.BytesIO()
        picture.save(buffer, format="PNG")
        pdf.add_page()
        pdf.image(buffer, x=0, y=0, w=210, h=297)
    return bytes(pdf.output())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--pages", type=int, default=10)
    args = parser.parse_args()
    if shutil.which("tesseract") is None:
        sys.exit("needs the tesseract binary on PATH (Debian: apt-get install tesseract-ocr)")
    settings = Settings()
    options = ReadOptions(True, settings.ocr_language, settings.ocr_dpi)
    files: list[tuple[str, bytes]] = [
        (f"generated-{args.pages}-pages.pdf", generated_scan(args.pages))
    ]
    manifest = args.corpus / "manifest.csv"
    if manifest.exists():
        with manifest.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                if "scanned" in row["tags"] or "image-only" in row["tags"]:
                    path = args.corpus / row["file"]
                    files.append((path.name, path.read_bytes()))

    print(
        f"{platform.processor() or platform.machine()}, Tesseract 1 thread, "
        f"{settings.ocr_dpi} dpi, language {settings.ocr_language}"
    )
    print()
    print("| file | pages OCR'd | seconds | pages/min | words |")
    print("|---|---:|---:|---:|---:|")
    total_pages = 0
    total_seconds = 0.0
    with Sandbox(Limits(timeout_seconds=3600, memory_mb=settings.parse_memory_mb)) as sandbox:
        sandbox.read("warm-up.pdf", generated_scan(1), options)  # start the worker first
        for name, data in files:
            start = time.perf_counter()
            try:
                content = sandbox.read(name, data, options)
            except InputError as exc:
                print(f"| {name} | refused: {exc.reason} | | | |")
                continue
            seconds = time.perf_counter() - start
            pages = [p for p in content.pages if p.ocr]
            words = sum(len(p.text.split()) for p in pages)
            total_pages += len(pages)
            total_seconds += seconds
            rate = len(pages) / seconds * 60 if pages else 0.0
            print(f"| {name} | {len(pages)} | {seconds:.1f} | {rate:.1f} | {words} |")
    if total_pages:
        print(
            f"| **all** | {total_pages} | {total_seconds:.1f} | "
            f"{total_pages / total_seconds * 60:.1f} | |"
        )


if __name__ == "__main__":
    main()
