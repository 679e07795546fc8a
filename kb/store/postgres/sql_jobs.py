"""The PostgreSQL dialect's SQL of the ingest queue (what both dialects say alike is in
`kb.store.sql_jobs`).

Workers on many machines claim jobs at once: the claim locks the row it takes and skips the
rows other workers hold (`FOR UPDATE SKIP LOCKED`), so each job goes to one worker and no
worker waits for another.
"""

from __future__ import annotations

from kb.store.sql_jobs import CLAIM_TEMPLATE, JOB_COLUMNS, WAITING_JOB

# The table as SQLite's migration 9 makes it, with PostgreSQL's type for bytes.
M003_JOBS = """
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
    data     BYTEA NOT NULL,
    options  TEXT NOT NULL,                 -- JSON: what the upload said about this file
    PRIMARY KEY (job_id, position)
);
"""
CLAIM_JOB = CLAIM_TEMPLATE.format(
    waiting=WAITING_JOB.rstrip() + " FOR UPDATE SKIP LOCKED", columns=JOB_COLUMNS
)
