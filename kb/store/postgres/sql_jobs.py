"""The PostgreSQL dialect's SQL of the ingest queue (what both dialects say alike is in
`kb.store.sql_jobs`).

Workers on many machines claim jobs at once: the claim locks the row it takes and skips the
rows other workers hold (`FOR UPDATE SKIP LOCKED`), so each job goes to one worker and no
worker waits for another.
"""

from __future__ import annotations

from kb.store.sql_jobs import CLAIM_TEMPLATE, JOB_COLUMNS, JOBS_TABLES, WAITING_JOB

# The tables as SQLite's migration 9 makes them, with PostgreSQL's type for bytes.
M003_JOBS = JOBS_TABLES.format(bytes="BYTEA")
CLAIM_JOB = CLAIM_TEMPLATE.format(
    waiting=WAITING_JOB.rstrip() + " FOR UPDATE SKIP LOCKED", columns=JOB_COLUMNS
)
