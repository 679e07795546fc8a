"""Large text files through `kb ingest`: refused at once over KB_MAX_TEXT_MB, bounded below it.

    .venv/bin/python -P bench/large_text.py [--sizes 1,40] [--under] [--keep DIR]

(-P: bench/keyword.py would otherwise stand in for the standard library's `keyword`.)

Writes English-like prose (seeded, paragraphs of sentences) of each size in MiB to a temporary
folder, and runs `kb ingest FILE` on each in a subprocess against a new store. For each:
the wall time, the peak resident memory of `kb` and its children together (the parsing worker
included; sampled every 50 ms from /proc), and the outcome line `kb` printed. `--under` adds a
file just under the default text limit, to show what the largest accepted file costs.
Prints a Markdown table to paste into bench/RESULTS.md. Not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.sandbox import resident_mb  # noqa: E402
from kb.settings import Settings  # noqa: E402

KB = Path(sys.executable).parent / "kb"
MIB = 1048576
WORDS = (
    "the parties agree to a ceasefire monitored by a joint commission which shall verify "
    "withdrawal of forces from the northern provinces within thirty days of signature "
    "refugees and displaced persons may return voluntarily in safety and dignity while "
    "humanitarian agencies deliver food water shelter and medical care to affected "
    "communities the government will hold elections under international observation and "
    "reform the security sector through disarmament demobilisation and reintegration of "
    "former combatants land disputes are referred to local councils with women and youth "
    "represented evaluation found that funding arrived late and coordination between "
    "clusters improved only after the second year of the programme"
).split()


@dataclass(frozen=True)
class Row:
    label: str
    mib: float
    seconds: float
    peak_mib: float
    outcome: str


def write_prose(path: Path, size: int, seed: int = 7) -> None:
    """`size` bytes of sentences in paragraphs, written in pieces (never held whole)."""
    rng = random.Random(seed)
    written = 0
    with path.open("w", encoding="utf-8") as handle:
        while written < size:
            sentences = []
            for _ in range(rng.randint(3, 8)):
                words = rng.choices(WORDS, k=rng.randint(10, 25))
                sentences.append(" ".join(words).capitalize() + ".")
            paragraph = " ".join(sentences) + "\n\n"
            paragraph = paragraph[: size - written]  # ASCII: characters are bytes
            handle.write(paragraph)
            written += len(paragraph)


def ingest(label: str, path: Path, store: Path) -> Row:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "COLUMNS": "1000"}
    env.pop("KB_STORE", None)
    start = time.perf_counter()
    process = subprocess.Popen(
        [str(KB), "--store", str(store), "ingest", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    peak = 0.0
    while process.poll() is None:
        peak = max(peak, resident_mb(process.pid))
        time.sleep(0.05)
    seconds = time.perf_counter() - start
    _, stderr = process.communicate()
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    failed = [line for line in lines if line.startswith("failed")]
    outcome = " / ".join([*failed[:1], *lines[-1:]]).replace(str(path.parent) + "/", "")
    return Row(label, path.stat().st_size / MIB, seconds, peak, outcome)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1,40", help="file sizes in MiB, comma-separated")
    parser.add_argument("--under", action="store_true", help="add a file just under the limit")
    parser.add_argument("--keep", type=Path, help="write files and stores here, and keep them")
    args = parser.parse_args()
    limit = Settings().max_text_mb
    sizes = [(f"{float(s):g} MiB", float(s)) for s in args.sizes.split(",")]
    if args.under:
        sizes.insert(1, (f"just under the limit ({limit:g} MiB)", limit - 0.05))
    with tempfile.TemporaryDirectory(prefix="large-text-") as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        rows = []
        for index, (label, mib) in enumerate(sizes):
            path = folder / f"report-{index}-{mib:g}mib.txt"
            write_prose(path, int(mib * MIB))
            rows.append(ingest(label, path, folder / f"store-{index}"))
            print(f"  {label}: {rows[-1].seconds:.1f} s", file=sys.stderr)
    stamp = datetime.now().strftime("%Y-%m-%d %H:%M")
    cores = len(os.sched_getaffinity(0))
    print(
        f"large text, {stamp}, {platform.machine()}, {cores} cores; "
        f"KB_MAX_TEXT_MB={limit:g}, KB_MAX_PASSAGES={Settings().max_passages}"
    )
    print()
    print("| file | MiB | wall s | peak RSS MiB (kb + worker) | outcome |")
    print("|---|---:|---:|---:|---|")
    for row in rows:
        print(
            f"| {row.label} | {row.mib:.1f} | {row.seconds:.1f} | {row.peak_mib:.0f} "
            f"| {row.outcome} |"
        )


if __name__ == "__main__":
    main()
