"""SQL of the ingest queue: jobs, the files each carries, and the lease a worker holds.

SQLite's table (migration 9) and claim; the other statements are in `kb.store.sql_jobs`. A
worker claims the oldest waiting job, or one whose worker stopped renewing its lease (killed, or
its machine gone); the claim is one statement.
"""

from __future__ import annotations

from kb.store.sql_jobs import CLAIM_TEMPLATE, JOB_COLUMNS, JOBS_TABLES, WAITING_JOB

M009_JOBS = JOBS_TABLES.format(bytes="BLOB")

# SQLite runs it inside BEGIN IMMEDIATE: one writer, so no two workers claim the same job.
CLAIM_JOB = CLAIM_TEMPLATE.format(waiting=WAITING_JOB, columns=JOB_COLUMNS)
