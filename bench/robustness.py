"""Hostile PDFs: every file of ../shared/corpora/pdf-robustness through the bounded worker.

    .venv/bin/python bench/robustness.py [--corpus DIR]

For each manifest file: the outcome (pages read, OCR'd pages, or the refusal and its reason),
the wall time, and the peak resident memory of the parsing worker (with Tesseract). Each file
gets a fresh worker so its peak is its own. Limits and OCR come from the KB_* settings.
Prints a Markdown table to paste into bench/RESULTS.md. Not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.readers import ReadOptions  # noqa: E402
from ingest.sandbox import Limits, Sandbox  # noqa: E402
from kb.errors import InputError  # noqa: E402
from kb.settings import Settings  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpora" / "pdf-robustness"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args()
    manifest = args.corpus / "manifest.csv"
    if not manifest.exists():
        sys.exit(f"needs {manifest} (the shared pdf-robustness corpus)")
    settings = Settings()
    limits = Limits.from_settings(settings)
    ocr = settings.ocr == "auto" and shutil.which("tesseract") is not None
    options = ReadOptions(ocr, settings.ocr_language, settings.ocr_dpi)
    with manifest.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))

    state = "on" if ocr else "off"
    print(f"limits: {limits.timeout_seconds:g} s, {limits.memory_mb} MiB; OCR {state}")
    print()
    print("| file | tags | outcome | seconds | peak MiB |")
    print("|---|---|---|---:|---:|")
    tally: Counter[str] = Counter()
    total = 0.0
    for row in rows:
        path = args.corpus / row["file"]
        start = time.perf_counter()
        with Sandbox(limits) as sandbox:
            try:
                content = sandbox.read(path.name, path.read_bytes(), options)
                ocr_pages = sum(page.ocr for page in content.pages)
                outcome = f"read: {len(content.pages)} pages" + (
                    f", {ocr_pages} OCR'd" if ocr_pages else ""
                )
                tally["read with OCR" if ocr_pages else "read"] += 1
            except InputError as exc:
                outcome = f"refused ({exc.code}): {exc.reason}"
                tally[f"refused: {exc.code}"] += 1
            seconds = time.perf_counter() - start
            peak = sandbox.last_peak_mb
        total += seconds
        tags = row["tags"].replace("|", "/")
        outcome = outcome.replace("|", "/")
        print(f"| {path.name} | {tags} | {outcome} | {seconds:.2f} | {peak:.0f} |")
    print()
    summary = ", ".join(f"{count} {what}" for what, count in sorted(tally.items()))
    print(f"{len(rows)} files in {total:.1f} s: {summary}")


if __name__ == "__main__":
    main()
