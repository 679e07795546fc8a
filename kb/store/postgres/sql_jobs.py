"""The PostgreSQL backend's SQL of the ingest queue, under the names `kb.store.sqlite.sql_jobs`
gives it.

Workers on many machines claim jobs at once: the claim locks the row it takes and skips the
rows other workers hold (`FOR UPDATE SKIP LOCKED`), so each job goes to one worker and no
worker waits for another.
"""

from __future__ import annotations

from kb.store.sqlite.sql_jobs import (  # noqa: F401  (the same in both dialects)
    _CLAIM,
    _WAITING,
    ANY_WAITING,
    DROP_JOB_FILES,
    FINISH_JOB,
    GET_JOB,
    GIVE_UP,
    INSERT_JOB,
    INSERT_JOB_FILE,
    JOB_COLUMNS,
    JOB_FILES,
    M009_JOBS,
    RECORD_PROGRESS,
    RENEW_LEASE,
)

# The table as SQLite's migration 9 makes it, with PostgreSQL's type for bytes.
M003_JOBS = M009_JOBS.replace("BLOB", "BYTEA")
CLAIM_JOB = _CLAIM.format(
    waiting=_WAITING.rstrip() + " FOR UPDATE SKIP LOCKED", columns=JOB_COLUMNS
)
