"""Ingest jobs: an upload handed to the workers (`kb worker`, or the server's own threads),
followed by its id. The queue itself is in the store (`kb.store.sql_jobs`, and what each engine
says its own way in its leaf)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

JobState = Literal["queued", "running", "done", "failed"]
# What the queue reads the time from: seconds since the epoch, as time.time gives them. The
# store takes one so that tests move past a lease without waiting for it.
Clock = Callable[[], float]


@dataclass(frozen=True)
class JobFile:
    """One file of a job, with what the upload said about it (ingest's options, as JSON)."""

    name: str
    data: bytes = field(repr=False)
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Job:
    job_id: str
    state: JobState
    actor: str
    owner: str | None  # the user who may follow it; None: a local command's
    files: int
    done: int  # files ingested so far, in order
    outcomes: tuple[Mapping[str, Any], ...]  # one per file done
    error: str | None
    worker: str | None
    attempts: int
    created_at: str
    started_at: str | None
    finished_at: str | None


def job_of(row: Sequence[Any]) -> Job:
    return Job(
        job_id=str(row[0]),
        state=row[1],
        actor=str(row[2]),
        owner=row[3],
        files=int(row[4]),
        done=int(row[5]),
        outcomes=tuple(json.loads(row[6])),
        error=row[7],
        worker=row[8],
        attempts=int(row[9]),
        created_at=str(row[10]),
        started_at=row[11],
        finished_at=row[12],
    )


def timestamp(moment: float) -> str:
    """A moment (seconds since the epoch) as the store writes times."""
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="seconds")


def lease_end(now: float, seconds: float) -> str:
    """The moment a lease taken at `now` runs out, as the store writes times."""
    return timestamp(now + seconds)
