"""OCR of PDF pages that have no text layer: pypdfium2 renders a page, Tesseract (through
pytesseract) reads the image.

Runs inside the parsing worker (`ingest.worker`), so its time and memory are bounded there.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Sequence

import pypdfium2 as pdfium
import pytesseract
from PIL import Image

from ingest.content import ReadOptions
from kb.errors import CorruptFileError, InputError

# Tesseract's time and memory grow with pixels; text stays legible far below this many,
# so a poster-sized page is rendered at a lower resolution rather than at ocr_dpi.
MAX_PIXELS = 40_000_000
BLANK_CONTRAST = 24  # grey levels between the darkest and lightest pixel of an empty page
PREVIEW_DPI = 24

ENABLE_OCR = (
    "install Tesseract (Debian: `apt-get install tesseract-ocr`) and leave KB_OCR=auto to "
    "OCR it, or OCR it first (e.g. with ocrmypdf) and ingest the result"
)


def tesseract_available() -> bool:
    return shutil.which("tesseract") is not None


def recognise_pages(
    name: str, data: bytes, numbers: Sequence[int], options: ReadOptions
) -> dict[int, str]:
    """The text Tesseract reads on the given pages (numbered from 1); blank pages are skipped.

    Raises:
        CorruptFileError: the pages cannot be rendered.
        InputError: Tesseract fails (e.g. the language is not installed).
    """
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise CorruptFileError(name, f"its pages cannot be rendered for OCR ({exc})") from exc
    found: dict[int, str] = {}
    try:
        for number in numbers:
            page = document[number - 1]
            try:
                if _is_blank(page):
                    continue
                image = _render(page, options.ocr_dpi)
            except pdfium.PdfiumError as exc:
                raise CorruptFileError(
                    name, f"page {number} cannot be rendered for OCR ({exc})"
                ) from exc
            finally:
                page.close()
            found[number] = _read(name, image, options.ocr_language)
            image.close()
    finally:
        document.close()
    return found


def _is_blank(page: pdfium.PdfPage) -> bool:
    """A page that renders to one flat colour holds nothing to read: skip Tesseract."""
    preview = _render(page, PREVIEW_DPI)
    darkest, lightest = preview.convert("L").getextrema()
    return float(lightest) - float(darkest) < BLANK_CONTRAST  # type: ignore[arg-type]


def _render(page: pdfium.PdfPage, dpi: int) -> Image.Image:
    width, height = page.get_size()  # in points, 1/72 inch
    scale = dpi / 72
    pixels = width * scale * height * scale
    if pixels > MAX_PIXELS:
        scale *= math.sqrt(MAX_PIXELS / pixels)
    bitmap = page.render(scale=scale, grayscale=True)
    try:
        image: Image.Image = bitmap.to_pil().convert("L")
        return image
    finally:
        bitmap.close()


def _read(name: str, image: Image.Image, language: str) -> str:
    try:
        text: str = pytesseract.image_to_string(image, lang=language)
    except pytesseract.TesseractNotFoundError as exc:
        raise InputError(name, f"Tesseract is not installed; {ENABLE_OCR}") from exc
    except pytesseract.TesseractError as exc:
        if "Failed loading language" in str(exc.message):
            raise InputError(
                name,
                f"Tesseract has no data for language {language!r} (KB_OCR_LANGUAGE); "
                f"install it (Debian: tesseract-ocr-{language.split('+')[0]})",
            ) from exc
        raise InputError(name, f"Tesseract failed on a page ({exc.message})") from exc
    return text
