"""GET /jobs/{job_id}: how far a queued upload has got."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import KBDep, WriterDep
from api.schemas.core import UploadOutcomePublic
from api.schemas.jobs import JobPublic
from kb.errors import NotFoundError
from kb.jobs import Job

router = APIRouter(prefix="/jobs", tags=["documents"])


@router.get("/{job_id}", response_model=JobPublic, summary="Follow a queued upload")
def get_job(kb: KBDep, viewer: WriterDep, job_id: str) -> JobPublic:
    """The job's state and the outcome of each file done so far. Only its uploader and admins
    see it (file names can say a lot): to anyone else it does not exist."""
    job = kb.store.job(job_id)
    if job is None or (viewer.role != "admin" and job.owner != viewer.name):
        raise NotFoundError(f"no job {job_id!r}")
    return job_public(job)


def job_public(job: Job) -> JobPublic:
    return JobPublic(
        job_id=job.job_id,
        state=job.state,
        files=job.files,
        done=job.done,
        items=[UploadOutcomePublic.model_validate(dict(o)) for o in job.outcomes],
        error=job.error,
        attempts=job.attempts,
        worker=job.worker,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        status_url=f"/jobs/{job.job_id}",
    )
