"""Queued ingest: an upload stored as a job (`enqueue_uploads`) and ingested by a worker
(`kb worker` processes on any machine, or `kb serve`'s own threads).

A worker holds a job by a lease it renews while it works; if it dies, another takes the job
up after the lease runs out and goes on from the first file without a recorded outcome. Each
document is written in one transaction, so none is ever half there, and a file ingested twice
(its worker died before recording it) is `unchanged` the second time.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

from ingest.outcomes import ItemOutcome
from ingest.pipeline import IngestOptions
from ingest.uploads import Upload, check_uploads, ingest_uploads
from kb.access import Viewer
from kb.errors import KBError
from kb.jobs import Job, JobFile
from kb.knowledge_base import KnowledgeBase
from kb.metadata.schema import MetadataSchema

log = logging.getLogger(__name__)


def enqueue_uploads(kb: KnowledgeBase, uploads: Sequence[Upload], owner: str | None) -> Job:
    """Queue the uploads as one job; their metadata is checked first (any problem: nothing is
    queued and InvalidMetadataError says where), as for an upload ingested at once."""
    check_uploads(kb, uploads)
    actor = uploads[0].options.actor if uploads else "system"
    return kb.store.enqueue_job(actor, owner, [_job_file(u) for u in uploads])


def _job_file(upload: Upload) -> JobFile:
    options: dict[str, Any] = options_json(upload.options)
    if upload.refused is not None:
        options["refused"] = upload.refused.reason
        return JobFile(upload.name, b"", options)
    return JobFile(upload.name, upload.data, options)


def options_json(options: IngestOptions) -> dict[str, Any]:
    """What a worker needs of the options (the schema is the worker's own)."""
    viewer = options.viewer
    return {
        "doc_type": options.doc_type,
        "metadata": dict(options.metadata),
        "document_id": options.document_id,
        "title": options.title,
        "actor": options.actor,
        "classification": options.classification,
        "groups": None if options.groups is None else list(options.groups),
        "viewer": None if viewer is None else asdict(viewer),
    }


def options_of(data: Mapping[str, Any], schema: MetadataSchema | None) -> IngestOptions:
    viewer = data.get("viewer")
    groups = data.get("groups")
    return IngestOptions(
        doc_type=data.get("doc_type"),
        metadata=data.get("metadata") or {},
        document_id=data.get("document_id"),
        title=data.get("title"),
        schema=schema,
        actor=data.get("actor") or "system",
        classification=data.get("classification"),
        groups=None if groups is None else tuple(groups),
        viewer=None if viewer is None else Viewer(**{**viewer, "groups": tuple(viewer["groups"])}),
    )


class Worker:
    """Takes jobs from the store's queue and ingests them, one at a time."""

    def __init__(self, kb: KnowledgeBase, schema: MetadataSchema | None, name: str = "") -> None:
        self.kb = kb
        self.schema = schema
        # Unique across machines and restarts: the lease says whose a job is.
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def run_one(self) -> Job | None:
        """Claim a job and ingest it; the job as it ended, or None if none was waiting."""
        settings, store = self.kb.settings, self.kb.store
        job = store.claim_job(self.name, settings.job_lease_seconds, settings.job_attempts)
        if job is None:
            return None
        log.info(
            "%s took job %s (%d files, attempt %d)", self.name, job.job_id, job.files, job.attempts
        )
        outcomes = [dict(o) for o in job.outcomes]
        try:
            with self._lease(job.job_id):
                for file in store.job_files(job.job_id, job.done):
                    outcomes.append(asdict(self._ingest(file)))
                    if not store.record_job_progress(
                        job.job_id, self.name, outcomes, settings.job_lease_seconds
                    ):
                        log.warning("%s lost job %s to another worker", self.name, job.job_id)
                        return store.job(job.job_id)
            store.finish_job(job.job_id, self.name)
        except Exception as exc:  # a bug, or the store gone: the job says so, not a retry loop
            log.exception("job %s failed", job.job_id)
            store.finish_job(job.job_id, self.name, f"{type(exc).__name__}: {exc}")
        return store.job(job.job_id)

    def _ingest(self, file: JobFile) -> ItemOutcome:
        refused = file.options.get("refused")
        if refused is not None:
            return ItemOutcome(file.name, "failed", reason=str(refused))
        upload = Upload(file.name, file.data, options_of(file.options, self.schema))
        try:
            return ingest_uploads(self.kb, [upload]).outcomes[0]
        except KBError as exc:
            return ItemOutcome(file.name, "failed", reason=exc.message)

    @contextmanager
    def _lease(self, job_id: str) -> Iterator[None]:
        """Renew the lease on the job every third of its length while the block runs."""
        done = threading.Event()
        seconds = self.kb.settings.job_lease_seconds

        def renew() -> None:
            while not done.wait(seconds / 3):
                try:
                    self.kb.store.renew_job_lease(job_id, self.name, seconds)
                except KBError as exc:
                    log.warning("could not renew the lease on job %s: %s", job_id, exc)

        beat = threading.Thread(target=renew, name=f"lease-{job_id[:8]}", daemon=True)
        beat.start()
        try:
            yield
        finally:
            done.set()
            beat.join()

    def run(
        self,
        stop: threading.Event,
        on_job: Callable[[Job], None] | None = None,
        once: bool = False,
    ) -> None:
        """Work off jobs until `stop` is set, looking for new ones every poll interval; each
        job as it ended goes to `on_job`. With `once`, stop when none is waiting."""
        while not stop.is_set():
            try:
                job = self.run_one()
            except KBError as exc:  # the store busy or unreachable: try again later
                log.warning("%s: %s", self.name, exc)
                job = None
            if job is not None:
                if on_job is not None:
                    on_job(job)
            elif once:
                return
            else:
                stop.wait(self.kb.settings.job_poll_seconds)
