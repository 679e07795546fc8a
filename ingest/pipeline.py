"""The ingest pipeline: files and folders in, documents in the knowledge base out.

Each file is read, chunked and checked on its own, so one bad file never stops a batch;
good documents are written in batches, each batch in one transaction.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ingest.chunking import MARKDOWN_HEADING, Page, chunk_pages
from ingest.metadata import (
    check_document_id,
    document_metadata,
    document_relations,
    is_sidecar,
    normalise_date,
    read_sidecar,
    sidecar_for,
    slug,
)
from ingest.readers import (
    RECORD_SUFFIXES,
    SUPPORTED_SUFFIXES,
    Content,
    Record,
    read_records,
)
from ingest.sandbox import read_bounded
from kb.errors import InputError, InvalidRequestError, KBError, TooLargeError, UnsupportedTypeError
from kb.knowledge_base import KnowledgeBase
from kb.models import DOC_TYPES, AddOutcome, AddResult, DocumentDraft
from kb.schema import MetadataSchema
from kb.settings import Settings

Status = Literal["added", "updated", "unchanged", "duplicate", "failed"]
STATUSES: tuple[Status, ...] = ("added", "updated", "unchanged", "duplicate", "failed")


@dataclass(frozen=True)
class IngestOptions:
    """What the caller says about every document of a batch; it wins over sidecars. With a
    `schema`, each file's metadata is validated (records never are: third-party vocabularies)."""

    doc_type: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    document_id: str | None = None
    title: str | None = None
    schema: MetadataSchema | None = None
    actor: str = "system"  # who adds them, for the audit log
    classification: str | None = None
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class ItemOutcome:
    source: str
    status: Status
    document_id: str | None = None
    reason: str | None = None
    chunks: int = 0
    duplicate_of: str | None = None  # status "duplicate": the document holding this content
    near_duplicates: tuple[str, ...] = ()  # stored documents with nearly the same text


@dataclass
class IngestReport:
    outcomes: list[ItemOutcome] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {s: sum(1 for o in self.outcomes if o.status == s) for s in STATUSES}

    @property
    def failed(self) -> list[ItemOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]


OnItem = Callable[[ItemOutcome], None]


def collect_files(paths: Sequence[Path]) -> tuple[list[Path], list[ItemOutcome]]:
    """Files under the given paths (folders recursively, sorted), and the paths that are missing.
    Sidecars and hidden files are not documents."""
    files: list[Path] = []
    missing: list[ItemOutcome] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                p
                for p in sorted(path.rglob("*"))
                if p.is_file()
                and not is_sidecar(p)
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        elif path.is_file():
            files.append(path)
        else:
            missing.append(ItemOutcome(str(path), "failed", reason="no such file or folder"))
    return files, missing


def count_items(files: Iterable[Path]) -> int:
    """How many outcomes ingesting these files will report: one per file, one per record."""
    total = 0
    for path in files:
        if path.suffix.lower() in RECORD_SUFFIXES:
            try:
                with path.open("rb") as handle:
                    total += sum(1 for line in handle if line.strip())
            except OSError:
                total += 1
        else:
            total += 1
    return total


def ingest_paths(
    kb: KnowledgeBase,
    paths: Sequence[Path],
    options: IngestOptions | None = None,
    on_item: OnItem | None = None,
) -> IngestReport:
    """Ingest files and folders; every file gets an outcome, failures included."""
    files, missing = collect_files(paths)
    return ingest_files(kb, files, options or IngestOptions(), on_item, missing)


def ingest_files(
    kb: KnowledgeBase,
    files: Sequence[Path],
    options: IngestOptions,
    on_item: OnItem | None = None,
    already: Sequence[ItemOutcome] = (),
) -> IngestReport:
    report = IngestReport()
    batch = _Batch(kb, report, on_item, options.actor)
    for outcome in already:
        batch.report_one(outcome)
    for path in files:
        for item in _prepare_path(path, options, kb.settings):
            batch.offer(item)
    batch.flush()
    return report


def ingest_prepared(
    kb: KnowledgeBase, items: Iterable[Prepared], actor: str, on_item: OnItem | None = None
) -> IngestReport:
    """Write prepared documents in batches; every item gets an outcome, failures included."""
    report = IngestReport()
    batch = _Batch(kb, report, on_item, actor)
    for item in items:
        batch.offer(item)
    batch.flush()
    return report


def ingest_upload(kb: KnowledgeBase, name: str, data: bytes, options: IngestOptions) -> ItemOutcome:
    """Ingest one uploaded file; a bad file raises its InputError for the caller to report."""
    if Path(name).suffix.lower() in RECORD_SUFFIXES:
        raise UnsupportedTypeError(name, "upload records files with `kb ingest` instead")
    draft = prepare_file(name, data, {}, options, kb.settings)
    return _outcome(name, draft, kb.add([draft], options.actor)[0])


# -- preparing documents ------------------------------------------------------------------

# (where it came from, the draft or None, the failure or None)
Prepared = tuple[str, DocumentDraft | None, ItemOutcome | None]


def _prepare_path(path: Path, options: IngestOptions, settings: Settings) -> Iterator[Prepared]:
    name = str(path)
    try:
        check_file(path.name, path.stat().st_size, settings)
        data = path.read_bytes()
        if path.suffix.lower() in RECORD_SUFFIXES:
            yield from _prepare_records(path, data, options, settings)
            return
        sidecar_path = sidecar_for(path)
        sidecar = read_sidecar(sidecar_path) if sidecar_path else {}
        yield name, prepare_file(path.name, data, sidecar, options, settings), None
    except (InputError, InvalidRequestError) as exc:
        yield name, None, ItemOutcome(name, "failed", reason=_reason(exc, path.name))
    except OSError as exc:
        yield (
            name,
            None,
            ItemOutcome(name, "failed", reason=f"cannot read the file ({exc.strerror})"),
        )


def check_file(name: str, size: int, settings: Settings) -> None:
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnsupportedTypeError(
            name,
            f"unsupported file type {suffix or '(none)'!r}; "
            f"supported: {', '.join(SUPPORTED_SUFFIXES)}",
        )
    if size > settings.max_upload_bytes:
        raise TooLargeError(
            name,
            f"{size / 1048576:.1f} MiB is over the {settings.max_upload_mb:g} MiB limit "
            "(KB_MAX_UPLOAD_MB)",
        )


def prepare_file(
    name: str, data: bytes, sidecar: Mapping[str, Any], options: IngestOptions, settings: Settings
) -> DocumentDraft:
    check_file(name, len(data), settings)
    content = read_bounded(name, data, settings)
    fields = {**sidecar, **options.metadata}
    title = options.title or _text(fields.get("title")) or content.title or _first_heading(content)
    document_id = options.document_id or _text(fields.get("document_id")) or slug(Path(name).stem)
    return _draft(
        name=name,
        document_id=document_id,
        title=title or Path(name).stem.replace("-", " ").replace("_", " "),
        fields=fields,
        options=options,
        content=content,
        sha256=hashlib.sha256(data).hexdigest(),
        settings=settings,
        schema=options.schema,
    )


def _prepare_records(
    path: Path, data: bytes, options: IngestOptions, settings: Settings
) -> Iterator[Prepared]:
    for item in read_records(str(path), data):
        if isinstance(item, InputError):
            yield item.source, None, ItemOutcome(item.source, "failed", reason=item.reason)
            continue
        record: Record = item
        where = f"{path} record {record.record_id}"
        fields = {**record.metadata, **options.metadata}
        if fields.get("doc_type") not in DOC_TYPES and "doc_type" in fields:
            # Third-party records use their own type vocabularies: keep it, as metadata.
            fields["source_doc_type"] = fields.pop("doc_type")
        try:
            content = Content((Page(1, record.text or record.title),), record.title or None)
            fingerprint = json.dumps([record.title, record.text], ensure_ascii=False)
            yield (
                where,
                _draft(
                    name=path.name,
                    document_id=record.record_id,
                    title=record.title or " ".join(record.text.split()[:12]),
                    fields=fields,
                    options=options,
                    content=content,
                    sha256=hashlib.sha256(fingerprint.encode()).hexdigest(),
                    settings=settings,
                    schema=None,
                ),
                None,
            )
        except (InputError, InvalidRequestError) as exc:
            yield where, None, ItemOutcome(where, "failed", reason=_reason(exc, path.name))


def _draft(
    *,
    name: str,
    document_id: str,
    title: str,
    fields: Mapping[str, Any],
    options: IngestOptions,
    content: Content,
    sha256: str,
    settings: Settings,
    schema: MetadataSchema | None,
) -> DocumentDraft:
    check_document_id(document_id)
    title = " ".join(title.split())
    doc_type, metadata = document_metadata(name, fields, options.doc_type, schema, title)
    date = metadata.get("date")
    chunks = chunk_pages(content.pages, settings.chunk_words, settings.chunk_overlap_words)
    if not chunks:
        raise InputError(name, "no text to index after reading")
    return DocumentDraft(
        document_id=document_id,
        title=title,
        doc_type=doc_type,
        source_name=name,
        sha256=sha256,
        metadata=metadata,
        date=str(normalise_date(date)) if date is not None else None,
        chunks=chunks,
        relations=document_relations(name, fields),
    )


def _first_heading(content: Content) -> str | None:
    for page in content.pages:
        for line in page.text.splitlines():
            if not line.strip():
                continue
            heading = MARKDOWN_HEADING.match(line)
            if heading:
                return heading.group(1)
            return line.strip() if len(line.split()) <= 15 else None
    return None


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _reason(exc: KBError, name: str) -> str:
    if isinstance(exc, InputError):
        return exc.reason
    return exc.message.removeprefix(f"{name}: ")


# -- writing in batches -------------------------------------------------------------------


class _Batch:
    """Collects prepared documents and writes them in transactions of a few hundred passages."""

    def __init__(
        self, kb: KnowledgeBase, report: IngestReport, on_item: OnItem | None, actor: str
    ) -> None:
        self._actor = actor
        self._kb = kb
        self._report = report
        self._on_item = on_item
        self._drafts: list[tuple[str, DocumentDraft]] = []
        self._seen: dict[str, str] = {}

    def report_one(self, outcome: ItemOutcome) -> None:
        self._report.outcomes.append(outcome)
        if self._on_item is not None:
            self._on_item(outcome)

    def offer(self, item: Prepared) -> None:
        source, draft, failure = item
        if failure is not None or draft is None:
            self.report_one(failure or ItemOutcome(source, "failed", reason="nothing read"))
            return
        first = self._seen.get(draft.document_id)
        if first is not None:
            self.report_one(
                ItemOutcome(
                    source,
                    "failed",
                    draft.document_id,
                    reason=f"document_id {draft.document_id!r} is already taken by {first} in this "
                    'batch; give one of them a "document_id" in its sidecar',
                )
            )
            return
        self._seen[draft.document_id] = source
        self._drafts.append((source, draft))
        if sum(len(d.chunks) for _, d in self._drafts) >= self._kb.settings.ingest_batch_chunks:
            self.flush()

    def flush(self) -> None:
        drafts, self._drafts = self._drafts, []
        if not drafts:
            return
        try:
            results = self._kb.add([d for _, d in drafts], self._actor)
        except KBError as exc:
            for source, draft in drafts:
                self.report_one(
                    ItemOutcome(source, "failed", draft.document_id, reason=exc.message)
                )
            return
        for (source, draft), result in zip(drafts, results, strict=True):
            self.report_one(_outcome(source, draft, result))


def _outcome(source: str, draft: DocumentDraft, result: AddResult) -> ItemOutcome:
    duplicate = result.outcome is AddOutcome.DUPLICATE
    return ItemOutcome(
        source,
        result.outcome.value,
        draft.document_id,
        reason=f"the same content is already stored as {result.duplicate_of!r}"
        if duplicate
        else None,
        chunks=0 if duplicate else len(draft.chunks),
        duplicate_of=result.duplicate_of,
        near_duplicates=result.near_duplicates,
    )
