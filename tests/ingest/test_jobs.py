"""Queued ingest: jobs in the store's queue, worked off by workers holding leases; on both
backends, with the real model. Workers in other processes: tests/test_scale_out.py."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ingest.jobs import Worker, enqueue_uploads
from ingest.pipeline import IngestOptions
from ingest.uploads import Upload
from kb.access import Viewer
from kb.embedding.embedder import Embedder
from kb.errors import InputError, InvalidMetadataError
from kb.knowledge_base import KnowledgeBase
from kb.metadata.schema import load_schema
from kb.models import Filters, SearchRequest
from kb.settings import Settings
from kb.store.protocol import Store

pytestmark = pytest.mark.backends

TEXTS = {
    "ceasefire.txt": "Unarmed observers monitored the ceasefire line along the border.",
    "refugees.txt": "Refugees returned to their villages and recovered their land.",
    "lake.txt": "Fishing rights in the shared lake were divided by season.",
}
OPTIONS = IngestOptions(doc_type="other", actor="api:amina")


def uploads(**options: object) -> list[Upload]:
    chosen = IngestOptions(**{**OPTIONS.__dict__, **options})
    return [Upload(name, text.encode(), chosen) for name, text in TEXTS.items()]


class Clock:
    """The queue's time, moved on by the test: a lease runs out without waiting for it."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def quick(
    settings: Settings, embedder: Embedder, make_store: Callable[..., Store], clock: Clock
) -> Iterator[KnowledgeBase]:
    """A knowledge base whose workers' leases run out after a second of `clock`."""
    fast = settings.model_copy(update={"job_lease_seconds": 1.0})
    with KnowledgeBase(fast, make_store(fast.store, clock=clock), embedder=embedder) as kb:
        yield kb


def test_a_queued_upload_is_ingested_by_a_worker_with_every_outcome(kb: KnowledgeBase) -> None:
    viewer = Viewer("amina", "evaluator", "restricted")
    job = enqueue_uploads(kb, uploads(viewer=viewer, classification="restricted"), "amina")
    assert (job.state, job.files, job.done, job.owner) == ("queued", 3, 0, "amina")
    assert kb.store.count_documents(Filters()) == 0  # nothing is visible before a worker runs
    finished = Worker(kb, load_schema()).run_one()
    assert finished is not None and finished.job_id == job.job_id
    assert (finished.state, finished.done, finished.attempts) == ("done", 3, 1)
    assert [o["status"] for o in finished.outcomes] == ["added"] * 3
    assert [o["source"] for o in finished.outcomes] == list(TEXTS)
    assert kb.get_document("ceasefire").classification == "restricted"
    assert kb.audit(document_id="lake")[1][0].actor == "api:amina"
    found = kb.search(SearchRequest("observers on the ceasefire line", mode="hybrid"))
    assert found.results[0].document_id == "ceasefire"
    assert Worker(kb, load_schema()).run_one() is None  # nothing left
    assert kb.store.job_files(job.job_id, 0) == []  # the files are not kept past the job


def test_bad_metadata_queues_nothing_and_a_bad_file_fails_alone(kb: KnowledgeBase) -> None:
    with pytest.raises(InvalidMetadataError):
        # an agreement without its date, parties and stage
        enqueue_uploads(kb, uploads(doc_type="agreement", schema=load_schema()), None)
    assert kb.store.claim_job("idle", 30.0, 3) is None  # nothing was queued
    batch = uploads()
    refused = InputError("huge.pdf", "over the upload limit")
    batch.append(Upload("huge.pdf", b"%PDF", OPTIONS, refused=refused))
    batch.append(Upload("empty.txt", b"", OPTIONS))
    job = enqueue_uploads(kb, batch, None)
    finished = Worker(kb, load_schema()).run_one()
    assert finished is not None and finished.state == "done"
    statuses = {o["source"]: (o["status"], o["reason"]) for o in finished.outcomes}
    assert statuses["huge.pdf"] == ("failed", "over the upload limit")
    assert statuses["empty.txt"][0] == "failed" and statuses["lake.txt"][0] == "added"
    assert kb.store.job(job.job_id) == finished


def test_a_job_whose_worker_stops_renewing_goes_to_another_from_where_it_stopped(
    quick: KnowledgeBase, clock: Clock
) -> None:
    job = enqueue_uploads(quick, uploads(), None)
    store = quick.store
    first = store.claim_job("dead-worker", 1.0, 3)
    assert first is not None and first.job_id == job.job_id
    assert store.claim_job("other", 1.0, 3) is None  # held
    # It ingested one file and recorded it, then died.
    one = Worker(quick, load_schema(), "dead-worker")._ingest(store.job_files(job.job_id, 0)[0])
    assert store.record_job_progress(job.job_id, "dead-worker", [one.__dict__], 1.0)
    clock.advance(2.1)  # times are kept to the second: past the lease whatever the rounding
    finished = Worker(quick, load_schema(), "second").run_one()
    assert finished is not None and (finished.state, finished.attempts) == ("done", 2)
    assert [o["status"] for o in finished.outcomes] == ["added"] * 3  # the first file once
    assert finished.worker == "second"
    # The dead worker's late writes are refused: the job is no longer its.
    assert not store.record_job_progress(job.job_id, "dead-worker", [], 1.0)
    assert not store.finish_job(job.job_id, "dead-worker")


def test_a_job_whose_workers_keep_dying_fails_with_the_reason(
    quick: KnowledgeBase, clock: Clock
) -> None:
    job = enqueue_uploads(quick, uploads(), None)
    for attempt in range(2):
        assert quick.store.claim_job(f"doomed-{attempt}", 1.0, 2) is not None
        assert quick.store.claim_job("other", 1.0, 2) is None  # held until its lease runs out
        clock.advance(2.1)
    assert quick.store.claim_job("third", 1.0, 2) is None
    failed = quick.store.job(job.job_id)
    assert failed is not None and failed.state == "failed"
    assert failed.error == "its worker stopped 2 times before it finished"


def test_the_queue_survives_reopening_the_store(
    settings: Settings, embedder: Embedder, tmp_path: Path
) -> None:
    with KnowledgeBase(settings, embedder=embedder) as kb:
        job = enqueue_uploads(kb, uploads(), None)
    with KnowledgeBase(settings, embedder=embedder) as kb:
        finished = Worker(kb, load_schema()).run_one()
        assert finished is not None and finished.job_id == job.job_id
        assert finished.state == "done"
