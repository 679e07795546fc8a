"""SQL of the ingest queue: jobs, the files each carries, and the lease a worker holds.

SQLite's table (migration 9) and claim; the other statements are in `kb.store.sql_jobs`. A
worker claims the oldest waiting job, or one whose worker stopped renewing its lease (killed, or
its machine gone); the claim is one statement.
"""

from __future__ import annotations

from kb.store.sql_jobs import CLAIM_TEMPLATE, JOB_COLUMNS, WAITING_JOB

M009_JOBS = """
-- An upload left to the workers: its files wait here until a worker has ingested them.
CREATE TABLE jobs (
    job_id      TEXT PRIMARY KEY,
    state       TEXT NOT NULL,              -- queued, running, done, failed
    actor       TEXT NOT NULL,              -- for the audit log
    owner       TEXT,                       -- the user who may follow it (NULL: a local command)
    files       INTEGER NOT NULL,
    done        INTEGER NOT NULL DEFAULT 0, -- files ingested so far, in order
    outcomes    TEXT NOT NULL DEFAULT '[]', -- one JSON object per file done
    error       TEXT,
    worker      TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    lease_until TEXT,                       -- a running job's worker renews this, or loses it
    created_at  TEXT NOT NULL,
    started_at  TEXT,
    finished_at TEXT
);
CREATE INDEX jobs_waiting ON jobs (state, created_at);
CREATE TABLE job_files (
    job_id   TEXT NOT NULL REFERENCES jobs (job_id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    name     TEXT NOT NULL,
    data     BLOB NOT NULL,
    options  TEXT NOT NULL,                 -- JSON: what the upload said about this file
    PRIMARY KEY (job_id, position)
);
"""

# SQLite runs it inside BEGIN IMMEDIATE: one writer, so no two workers claim the same job.
CLAIM_JOB = CLAIM_TEMPLATE.format(waiting=WAITING_JOB, columns=JOB_COLUMNS)
