"""SimHash fingerprints: the same text under another layout (a PDF and its Word original, a
re-scan) differs in a few of 64 bits, unrelated texts in about half of them."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

WORD = re.compile(r"\w+")
SHINGLE_WORDS = 3
# Below this many distinct shingles a fingerprint says too little to call texts alike.
MIN_SHINGLES = 20


def simhash(texts: Iterable[str]) -> int | None:
    """A signed 64-bit SimHash of the texts' word 3-shingles (a set: overlapping passages count
    once), or None for a text too short to fingerprint."""
    words = [w.casefold() for text in texts for w in WORD.findall(text)]
    shingles = {
        " ".join(words[i : i + SHINGLE_WORDS]) for i in range(len(words) - SHINGLE_WORDS + 1)
    }
    if len(shingles) < MIN_SHINGLES:
        return None
    digests = b"".join(hashlib.blake2b(s.encode(), digest_size=8).digest() for s in shingles)
    bits = np.unpackbits(np.frombuffer(digests, dtype=np.uint8).reshape(-1, 8), axis=1)
    votes = bits.astype(np.int32).sum(axis=0) * 2 - len(shingles)
    packed = np.packbits((votes > 0).astype(np.uint8)).tobytes()
    return int.from_bytes(packed, "big", signed=True)


def near(fingerprint: int, others: Sequence[int], max_bits: int) -> npt.NDArray[np.intp]:
    """Positions of the fingerprints among `others` within `max_bits` differing bits."""
    if not others:
        return np.zeros(0, dtype=np.intp)
    table = np.asarray(others, dtype=np.int64).view(np.uint64)
    query = np.asarray([fingerprint], dtype=np.int64).view(np.uint64)
    distance = np.bitwise_count(table ^ query)
    return np.flatnonzero(distance <= max_bits)
