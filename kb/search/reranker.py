"""The optional reranking stage: a cross-encoder from a local folder re-scores the head.

No cross-encoder ships in a package we can install, so none is on by default; an institution
that has one sets KB_RERANKER to its folder (any sentence-transformers CrossEncoder).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from kb.errors import InvalidRequestError

if TYPE_CHECKING:
    from sentence_transformers import CrossEncoder


class Reranker:
    """Scores (query, passage) pairs with a local cross-encoder, loaded on first use."""

    def __init__(self, folder: str, device: str = "cpu") -> None:
        path = Path(folder).expanduser()
        if not (path / "config.json").is_file():
            raise InvalidRequestError(
                f"reranker {folder!r} is not a local cross-encoder folder (no config.json)"
            )
        self.folder = path.resolve()
        self._device = device
        self._model: CrossEncoder | None = None
        self._lock = threading.Lock()

    @property
    def model(self) -> CrossEncoder:
        with self._lock:
            if self._model is None:
                from sentence_transformers import CrossEncoder

                self._model = CrossEncoder(
                    str(self.folder), device=self._device, local_files_only=True
                )
            return self._model

    def score(self, query: str, texts: list[str]) -> list[float]:
        """Higher is more relevant; one score per text."""
        if not texts:
            return []
        scores = self.model.predict([(query, text) for text in texts], show_progress_bar=False)
        return [float(s) for s in scores]
