"""The ingest pipeline: files and folders in, documents in the knowledge base out.

Each file is read, chunked and checked on its own, so one bad file never stops a batch;
good documents are written in batches, each batch in one transaction.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ingest.batch import Batch, outcome_of
from ingest.chunking import MARKDOWN_HEADING, Page, chunk_pages
from ingest.content import tidy_text
from ingest.inheritance import Given, inherit, stored_document
from ingest.metadata import (
    check_document_id,
    fields_draft,
    is_sidecar,
    printable_name,
    read_sidecar,
    sidecar_for,
)
from ingest.outcomes import (
    IngestReport,
    ItemOutcome,
    OnItem,
    Prepared,
)
from ingest.prefetch import Prefetch
from ingest.readers import (
    MEDIA_TYPES,
    RECORD_SUFFIXES,
    SUPPORTED_SUFFIXES,
    TEXT_LIMITED_SUFFIXES,
    Content,
    Record,
    read_records,
)
from ingest.resume import document_id_of, given_text, stored_draft
from ingest.sandbox import Limits, read_bounded, shared_sandbox
from kb.access import Viewer
from kb.errors import (
    ForbiddenError,
    InputError,
    InvalidRequestError,
    KBError,
    TooLargeError,
    UnsupportedTypeError,
)
from kb.knowledge_base import KnowledgeBase
from kb.metadata.schema import MetadataSchema
from kb.models import DOC_TYPES, AddOutcome, DocumentDraft, Original
from kb.settings import Settings
from kb.store.protocol import Fingerprint


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
    # The marking of every document (wins over sidecars); None: the sidecar's, else as stored
    classification: str | None = None
    groups: tuple[str, ...] | None = None
    viewer: Viewer | None = None  # who adds them: may not use ids or markings hidden from them


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
    """Ingest files in order, reading the next ones ahead (`ingest_prefetch`) while batches
    are embedded and written. On an error or Ctrl-C the reading thread stops and the process's
    parsing worker is killed, so a parse under way elsewhere in this process is refused too:
    meant for the command line, not for a server's requests."""
    report = IngestReport()
    batch = Batch(kb, report, on_item, options.actor, options.viewer)
    for outcome in already:
        batch.report_one(outcome)
    settings = kb.settings

    def prepare(path: Path) -> Iterator[Prepared]:
        return _prepare_path(path, options, kb)

    if settings.ingest_prefetch == 0:
        for path in files:
            for item in prepare(path):
                batch.offer(item)
    else:
        # The next files are parsed and chunked while this thread embeds and writes.
        stop_parsing = shared_sandbox(Limits.from_settings(settings)).abort
        with Prefetch(files, prepare, settings.ingest_prefetch, stop_parsing) as items:
            for item in items:
                batch.offer(item)
    batch.flush()
    return report


def ingest_prepared(
    kb: KnowledgeBase,
    items: Iterable[Prepared],
    options: IngestOptions,
    on_item: OnItem | None = None,
) -> IngestReport:
    """Write prepared documents in batches; every item gets an outcome, failures included."""
    report = IngestReport()
    batch = Batch(kb, report, on_item, options.actor, options.viewer)
    for item in items:
        batch.offer(item)
    batch.flush()
    return report


def ingest_upload(kb: KnowledgeBase, name: str, data: bytes, options: IngestOptions) -> ItemOutcome:
    """Ingest one uploaded file; a bad file raises its InputError for the caller to report."""
    if Path(name).suffix.lower() in RECORD_SUFFIXES:
        raise UnsupportedTypeError(name, "upload records files with `kb ingest` instead")
    draft = prepare_upload(kb, name, data, options)
    result = kb.add([draft], options.actor, options.viewer)[0]
    if result.outcome is AddOutcome.FAILED:
        raise ForbiddenError(result.reason or f"{name}: refused")
    return outcome_of(name, draft, result)


# -- preparing documents ------------------------------------------------------------------


def _prepare_path(path: Path, options: IngestOptions, kb: KnowledgeBase) -> Iterator[Prepared]:
    name = printable_name(str(path))  # an outcome line must not reorder the terminal's text
    settings = kb.settings
    try:
        check_file(path.name, path.stat().st_size, settings)
        data = path.read_bytes()
        if path.suffix.lower() in RECORD_SUFFIXES:
            yield from _prepare_records(path, data, options, settings)
            return
        sidecar_path = sidecar_for(path)
        sidecar = read_sidecar(sidecar_path) if sidecar_path else {}
        stored = stored_for(kb, path.name, sidecar, options)
        marking = (options.classification, options.groups)
        given = given_of(sidecar, options, stored)
        recognised = stored_draft(
            path.name, data, given, options.document_id, options.schema, marking, stored
        )
        if recognised is not None:
            yield name, recognised, None  # already stored: not parsed again
            return
        yield name, prepare_file(path.name, data, sidecar, options, settings, stored), None
    except (InputError, InvalidRequestError) as exc:
        reason = _reason(exc, printable_name(path.name))
        yield name, None, ItemOutcome(name, "failed", reason=reason)
    except OSError as exc:
        yield (
            name,
            None,
            ItemOutcome(name, "failed", reason=f"cannot read the file ({exc.strerror})"),
        )


def stored_for(
    kb: KnowledgeBase, name: str, sidecar: Mapping[str, Any], options: IngestOptions
) -> Fingerprint | None:
    """The live document a file would be ingested into, if the caller may see it: what the
    file does not give, it inherits (`ingest.inheritance`)."""
    document_id = document_id_of(name, {**sidecar, **options.metadata}, options.document_id)
    try:
        check_document_id(document_id)
    except InvalidRequestError:
        return None  # the normal path says why
    return stored_document(kb.store, document_id, options.viewer)


def given_of(
    sidecar: Mapping[str, Any], options: IngestOptions, stored: Fingerprint | None
) -> Given:
    """The fields a file's document gets: the sidecar's with the caller's over them, over the
    stored document's."""
    fields = {**sidecar, **options.metadata}
    return inherit(stored, Given(fields, options.doc_type, options.title))


def check_file(name: str, size: int, settings: Settings) -> None:
    """Refuse, before reading it, a file of a type we cannot read or over its size limit."""
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
    if suffix in TEXT_LIMITED_SUFFIXES and size > settings.max_text_bytes:
        raise TooLargeError(
            name,
            f"{size / 1048576:.3g} MiB is over the {settings.max_text_mb:g} MiB limit for text, "
            "Markdown and HTML files (KB_MAX_TEXT_MB)",
        )


def prepare_file(
    name: str,
    data: bytes,
    sidecar: Mapping[str, Any],
    options: IngestOptions,
    settings: Settings,
    stored: Fingerprint | None = None,
) -> DocumentDraft:
    """A file read and chunked into a draft; with `stored`, the live document it will go into,
    whose fields it keeps where it gives none."""
    name = printable_name(name)
    check_file(name, len(data), settings)
    content = read_bounded(name, data, settings)
    given = given_of(sidecar, options, stored)
    title = given.title or given_text(given.fields.get("title")) or content.title
    title = title or _first_heading(content)
    document_id = document_id_of(name, given.fields, options.document_id)
    sha256 = hashlib.sha256(data).hexdigest()
    draft = _draft(
        name=name,
        document_id=document_id,
        title=title or Path(name).stem.replace("-", " ").replace("_", " "),
        fields=given.fields,
        doc_type=given.doc_type,
        options=options,
        content=content,
        sha256=sha256,
        settings=settings,
        schema=options.schema,
    )
    # The file itself is kept too, byte for byte, so a reader can open the page it cites.
    media_type = MEDIA_TYPES.get(Path(name).suffix.lower(), "application/octet-stream")
    original = Original(sha256, media_type, Path(name).name)
    return replace(draft, original=original, original_bytes=data)


def prepare_upload(
    kb: KnowledgeBase, name: str, data: bytes, options: IngestOptions
) -> DocumentDraft:
    """An uploaded file read into a draft, over the document it will go into."""
    return prepare_file(name, data, {}, options, kb.settings, stored_for(kb, name, {}, options))


def _prepare_records(
    path: Path, data: bytes, options: IngestOptions, settings: Settings
) -> Iterator[Prepared]:
    for item in read_records(printable_name(str(path)), data):
        if isinstance(item, InputError):
            yield item.source, None, ItemOutcome(item.source, "failed", reason=item.reason)
            continue
        record: Record = item
        where = f"{printable_name(str(path))} record {printable_name(record.record_id)}"
        fields = {**record.metadata, **options.metadata}
        if fields.get("doc_type") not in DOC_TYPES and "doc_type" in fields:
            # Third-party records use their own type vocabularies: keep it, as metadata.
            fields["source_doc_type"] = fields.pop("doc_type")
        try:
            text = tidy_text(record.text or record.title)
            content = Content((Page(1, text),), record.title or None)
            fingerprint = json.dumps([record.title, record.text], ensure_ascii=False)
            yield (
                where,
                _draft(
                    name=path.name,
                    document_id=record.record_id,
                    title=record.title or " ".join(record.text.split()[:12]),
                    fields=fields,
                    doc_type=options.doc_type,
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
    doc_type: str | None,
    options: IngestOptions,
    content: Content,
    sha256: str,
    settings: Settings,
    schema: MetadataSchema | None,
) -> DocumentDraft:
    check_document_id(document_id)
    marking = (options.classification, options.groups)
    draft = fields_draft(name, document_id, title, fields, doc_type, schema, sha256, marking)
    chunks = chunk_pages(content.pages, settings.chunk_words, settings.chunk_overlap_words)
    if not chunks:
        raise InputError(name, "no text to index after reading")
    if len(chunks) > settings.max_passages:
        raise TooLargeError(
            name,
            f"{len(chunks):,} passages is over the limit of {settings.max_passages:,} passages "
            "per document (KB_MAX_PASSAGES)",
        )
    return replace(draft, chunks=chunks)


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


def _reason(exc: KBError, name: str) -> str:
    if isinstance(exc, InputError):
        return exc.reason
    return exc.message.removeprefix(f"{name}: ")
