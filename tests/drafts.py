"""Documents of one passage for the tests that need a few in a store and nothing else."""

from __future__ import annotations

from typing import Any

from kb.models import ChunkDraft, DocumentDraft


def passage_draft(n: int, text: str, **fields: Any) -> DocumentDraft:
    """Document `doc-N`, an evaluation of 2004 holding `text` as its one passage on page 1;
    `fields` replace any of those (title, metadata, classification, ...)."""
    values: dict[str, Any] = {
        "document_id": f"doc-{n}",
        "title": f"Report {n}",
        "doc_type": "evaluation",
        "source_name": f"doc-{n}.md",
        "sha256": f"sha-{n}-{text}",
        "metadata": {},
        "date": "2004-01-01",
        "chunks": (ChunkDraft(0, text, None, 1, 1, 0, len(text)),),
        "classification": "public",
    }
    return DocumentDraft(**{**values, **fields})
