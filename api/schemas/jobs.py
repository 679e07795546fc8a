"""The API's shape of an ingest job (`POST /documents` with `background=true`, `GET /jobs`)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.schemas.core import UploadOutcomePublic


class JobPublic(BaseModel):
    job_id: str
    state: str = Field(description="queued, running, done or failed.")
    files: int = Field(description="Files in the upload.")
    done: int = Field(description="Files ingested so far (their outcomes are in `items`).")
    items: list[UploadOutcomePublic] = Field(description="One outcome per file done, in order.")
    error: str | None = Field(None, description="Why a failed job stopped.")
    attempts: int = Field(description="Workers that took it up (more than one: one stopped).")
    worker: str | None = Field(None, description="The worker holding it (host:pid:id).")
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None
    status_url: str = Field(description="Where to follow it: GET this.")
