"""The ingest queue's statements both dialects run as written (each dialect's leaf makes the
table and the claim from them). Placeholders as in `kb.store.sql_common`."""

from __future__ import annotations

# The queue's tables; each dialect fills in its type for bytes (SQLite's BLOB, PostgreSQL's
# BYTEA).
JOBS_TABLES = """
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
    data     {bytes} NOT NULL,
    options  TEXT NOT NULL,                 -- JSON: what the upload said about this file
    PRIMARY KEY (job_id, position)
);
"""

JOB_COLUMNS = (
    "job_id, state, actor, owner, files, done, outcomes, error, worker, attempts, created_at, "
    "started_at, finished_at"
)

INSERT_JOB = """
INSERT INTO jobs (job_id, state, actor, owner, files, created_at)
VALUES (:job_id, 'queued', :actor, :owner, :files, :now)
"""

INSERT_JOB_FILE = (
    "INSERT INTO job_files (job_id, position, name, data, options) VALUES (?, ?, ?, ?, ?)"
)

GET_JOB = f"SELECT {JOB_COLUMNS} FROM jobs WHERE job_id = ?"

JOB_FILES = """
SELECT position, name, data, options FROM job_files
WHERE job_id = ? AND position >= ? ORDER BY position
"""

# A job whose workers died `:most` times is not tried again.
GIVE_UP = """
UPDATE jobs SET state = 'failed', finished_at = :now, lease_until = NULL,
    error = 'its worker stopped ' || attempts || ' times before it finished'
WHERE state = 'running' AND lease_until < :now AND attempts >= :most
"""

WAITING_JOB = """
SELECT job_id FROM jobs
WHERE state = 'queued' OR (state = 'running' AND lease_until < :now AND attempts < :most)
ORDER BY created_at, job_id LIMIT 1
"""

CLAIM_TEMPLATE = """
UPDATE jobs SET state = 'running', worker = :worker, lease_until = :until,
    attempts = attempts + 1, started_at = coalesce(started_at, :now)
WHERE job_id = ({waiting})
RETURNING {columns}
"""

# Read first, so that idle workers polling the queue take no write lock.
ANY_WAITING = """
SELECT EXISTS (SELECT 1 FROM jobs
               WHERE state = 'queued' OR (state = 'running' AND lease_until < :now))
"""

_MINE = "job_id = :job_id AND worker = :worker AND state = 'running'"

RECORD_PROGRESS = f"""
UPDATE jobs SET done = :done, outcomes = :outcomes, lease_until = :until WHERE {_MINE}
"""

RENEW_LEASE = f"UPDATE jobs SET lease_until = :until WHERE {_MINE}"

FINISH_JOB = f"""
UPDATE jobs SET state = :state, error = :error, finished_at = :now, lease_until = NULL
WHERE {_MINE}
"""

# The files of a finished job are not kept: what was ingested keeps its original.
DROP_JOB_FILES = "DELETE FROM job_files WHERE job_id = ?"
