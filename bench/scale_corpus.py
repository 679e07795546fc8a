"""The texts and vectors of bench/scale.py: real documents from ../shared/corpora, variants of
them beyond the real supply, and an embedder that gives real vectors for real passages (the
model's, cached under bench/out) and synthesised ones for variants.

Real supply: SciFact's 5,183 abstracts (as `lessons-learned` documents) and the UN General
Debate speeches of 2015-2024 (as `other` documents, country and year from metadata.csv),
chunked by our chunker. Beyond it, variant rounds: each real document again under a new id,
each passage's sentences shuffled and a few words substituted (seeded). A variant passage's
vector is its base passage's real vector plus Gaussian noise, renormalised (cosine to the base
about 0.95): embedding a million passages would take hours on 2 cores.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
import re
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.chunking import Page, chunk_pages  # noqa: E402
from kb.embedding.embedder import Embedder  # noqa: E402
from kb.models import DocumentDraft  # noqa: E402
from kb.settings import Settings  # noqa: E402

CORPORA = ROOT.parent / "shared" / "corpora"
SCIFACT = CORPORA / "beir-scifact"
DEBATES = CORPORA / "un-general-debates"
REGIONS = ("Africa", "Asia-Pacific", "Eastern Europe", "Latin America", "Western Europe", "Arab")
# Realistic spread of markings: most internal, a quarter public, a few restricted to a group.
MARKINGS = [("internal", ())] * 12 + [("public", ())] * 5 + [("restricted", ("field",))] * 2
MARKINGS += [("confidential", ())]
SWAPS = {
    "the": "this", "and": "as well as", "of": "regarding", "is": "remains", "are": "were",
    "we": "our nations", "countries": "states", "patients": "subjects", "cells": "tissue",
    "peace": "stability", "development": "progress", "world": "globe", "increased": "rose",
}  # fmt: skip
NOISE = 0.0168  # per component: |noise|^2 ~ 384 * NOISE^2 = 0.108, cosine to the base ~0.95
SENTENCE = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Source:
    """A real document, chunked: its passages are base passages `first`.. in the bank."""

    draft: DocumentDraft
    first: int


def _region(key: str) -> str:
    return REGIONS[int(hashlib.sha1(key.encode()).hexdigest(), 16) % len(REGIONS)]


def _marking(key: str) -> tuple[str, tuple[str, ...]]:
    return MARKINGS[int(hashlib.sha1(key.encode()).hexdigest()[:8], 16) % len(MARKINGS)]


def _draft(doc_id: str, title: str, doc_type: str, text: str, date: str, meta: dict[str, object],
           settings: Settings) -> DocumentDraft | None:  # fmt: skip
    chunks = chunk_pages([Page(1, text)], settings.chunk_words, settings.chunk_overlap_words)
    if not chunks:
        return None
    classification, groups = _marking(doc_id)
    return DocumentDraft(
        document_id=doc_id,
        title=title[:200],
        doc_type=doc_type,
        source_name=f"{doc_id}.txt",
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        metadata={"region": _region(doc_id), **meta},
        date=date,
        chunks=chunks,
        classification=classification,
        groups=groups,
    )


def _scifact(settings: Settings) -> Iterator[DocumentDraft]:
    with (SCIFACT / "corpus.jsonl").open() as lines:
        for line in lines:
            row = json.loads(line)
            year = 1995 + int(row["_id"]) % 26  # SciFact has no dates: spread over 26 years
            text = f"{row['title']}\n\n{row['text']}"
            draft = _draft(f"scifact-{row['_id']}", row["title"], "lessons-learned", text,
                           f"{year}-06-01", {"topic": "health research"}, settings)  # fmt: skip
            if draft is not None:
                yield draft


def _debates(settings: Settings) -> Iterator[DocumentDraft]:
    with (DEBATES / "metadata.csv").open(newline="") as rows:
        for row in csv.DictReader(rows):
            path = DEBATES / row["path"]
            if not path.is_file():
                path = DEBATES / "txt" / row["path"]
            text = path.read_text(encoding="utf-8", errors="replace")
            title = f"General Debate statement of {row['country']}, {row['year']}"
            meta = {"countries": [row["country"]], "session": row["session"]}
            draft = _draft(f"ungd-{row['doc_id']}", title, "other", text,
                           f"{row['year']}-09-25", meta, settings)  # fmt: skip
            if draft is not None:
                yield draft


def real_sources(settings: Settings, pool: int | None = None) -> list[Source]:
    """The real documents, SciFact and UN speeches interleaved (seeded), with the position
    of each one's first passage among the base passages; with `pool`, only the first
    documents holding at most that many passages (fewer base vectors to embed)."""
    drafts = [*_scifact(settings), *_debates(settings)]
    random.Random(7).shuffle(drafts)
    sources, first = [], 0
    for draft in drafts:
        if pool is not None and first + len(draft.chunks) > pool:
            break
        sources.append(Source(draft, first))
        first += len(draft.chunks)
    return sources


def base_texts(sources: list[Source]) -> list[str]:
    return [c.text for s in sources for c in s.draft.chunks]


def variant(source: Source, round_: int) -> DocumentDraft:
    """The document again under a new id: each passage's sentences shuffled, a few words
    swapped; the same passages, so each keeps its base passage's vector (plus noise)."""
    rng = random.Random(f"{source.draft.document_id}/{round_}")
    chunks = []
    for chunk in source.draft.chunks:
        sentences = SENTENCE.split(chunk.text)
        rng.shuffle(sentences)
        words = " ".join(sentences).split(" ")
        for at in rng.sample(range(len(words)), min(3, len(words))):
            words[at] = SWAPS.get(words[at].lower(), words[at])
        text = " ".join(words) + f" ({round_})"  # never the same text twice
        chunks.append(replace(chunk, text=text, char_end=chunk.char_start + len(text)))
    doc_id = f"{source.draft.document_id}-v{round_}"
    classification, groups = _marking(doc_id)
    return replace(
        source.draft,
        document_id=doc_id,
        sha256=hashlib.sha256("\n".join(c.text for c in chunks).encode()).hexdigest(),
        metadata={**source.draft.metadata, "region": _region(doc_id)},
        chunks=tuple(chunks),
        classification=classification,
        groups=groups,
    )


def documents(sources: list[Source], passages: int) -> Iterator[tuple[DocumentDraft, Source, bool]]:
    """Documents until `passages` passages: the real ones, then variant rounds of them.
    Yields (draft, its source, whether it is a variant)."""
    count, round_ = 0, 0
    while count < passages:
        for source in sources:
            draft = source.draft if round_ == 0 else variant(source, round_)
            yield draft, source, round_ > 0
            count += len(draft.chunks)
            if count >= passages:
                return
        round_ += 1


class VectorBank:
    """The real model's vectors of the base passages, cached in `folder` by model name and
    made once (resumable: saved every few thousand passages)."""

    def __init__(self, folder: Path, model: Embedder, texts: list[str]) -> None:
        slug = re.sub(r"[^A-Za-z0-9]+", "-", model.name).strip("-")
        self.path = folder / f"vectors-{slug}.npy"
        self.digest_path = folder / f"vectors-{slug}.sha1"
        self.model, self.texts = model, texts
        self.vectors = np.zeros((0, model.dimension), np.float32)
        if self.path.exists() and self.digest_path.exists():
            held = np.load(self.path)
            if self.digest_path.read_text() == _digest(texts[: len(held)]):
                self.vectors = held

    def ensure(self, count: int, progress: bool = True) -> None:
        """Embed base passages until the first `count` have vectors."""
        count = min(count, len(self.texts))
        parts = [self.vectors]
        done = len(self.vectors)
        while done < count:
            step = min(4096, count - done)
            parts.append(self.model.encode_documents(self.texts[done : done + step]))
            done += step
            self.vectors = np.concatenate(parts)
            parts = [self.vectors]
            np.save(self.path, self.vectors)
            self.digest_path.write_text(_digest(self.texts[:done]))
            if progress:
                print(f"  embedded {done:,} / {count:,} base passages", file=sys.stderr)


def _digest(texts: list[str]) -> str:
    return hashlib.sha1("\x00".join(texts).encode()).hexdigest()


class BankEmbedder(Embedder):
    """The real model for queries and unknown texts; for the bench's passages, their base
    passage's cached real vector, plus noise for a variant. `expect` registers what the next
    `encode_documents` call will see."""

    def __init__(self, settings: Settings, model: Embedder, bank: VectorBank) -> None:
        super().__init__(settings)
        self.name = model.name  # the store records the real model: the server opens it so
        self._model, self._bank = model, bank
        self._expected: dict[str, tuple[int, int]] = {}  # text -> (base passage, noise seed)
        self.real = self.synthesised = self.embedded = 0

    @property
    def dimension(self) -> int:
        return self._model.dimension

    def expect(self, draft: DocumentDraft, source: Source, is_variant: bool) -> None:
        for ordinal, chunk in enumerate(draft.chunks):
            seed = zlib.crc32(f"{draft.document_id}/{ordinal}".encode()) if is_variant else -1
            self._expected[chunk.text] = (source.first + ordinal, seed)

    def _encode(self, texts: list[str], *, queries: bool) -> np.ndarray:
        if queries:
            return self._model.encode_queries(texts)
        out = np.empty((len(texts), self.dimension), np.float32)
        unknown = []
        for row, text in enumerate(texts):
            base, seed = self._expected.pop(text, (-1, -1))
            if base < 0 or base >= len(self._bank.vectors):
                unknown.append(row)
                continue
            vector = self._bank.vectors[base]
            if seed >= 0:
                noisy = vector + np.random.default_rng(seed).normal(0, NOISE, len(vector))
                vector = noisy / np.linalg.norm(noisy)
                self.synthesised += 1
            else:
                self.real += 1
            out[row] = vector
        if unknown:
            out[unknown] = self._model.encode_documents([texts[r] for r in unknown])
            self.embedded += len(unknown)
        return out
