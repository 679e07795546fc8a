"""The store's ingest queue: jobs that workers claim, renew, and finish."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

from kb.jobs import Job, JobFile, job_of, lease_end, timestamp
from kb.store import sql_jobs
from kb.store.packs import SQLPacks
from kb.store.rows import dumps


class SQLJobs(SQLPacks):
    def enqueue_job(self, actor: str, owner: str | None, files: Sequence[JobFile]) -> Job:
        """A new job holding these files, waiting for a worker."""
        job_id = uuid.uuid4().hex
        with self._transaction():
            self._run(
                sql_jobs.INSERT_JOB,
                {
                    "job_id": job_id,
                    "actor": actor,
                    "owner": owner,
                    "files": len(files),
                    "now": timestamp(self._clock()),
                },
            )
            self._run_many(
                sql_jobs.INSERT_JOB_FILE,
                ((job_id, n, f.name, f.data, dumps(dict(f.options))) for n, f in enumerate(files)),
            )
        job = self.job(job_id)
        assert job is not None
        return job

    def claim_job(self, worker: str, lease_seconds: float, most_attempts: int) -> Job | None:
        """The oldest job waiting, or whose worker stopped renewing its lease, now `worker`'s;
        None when there is none. A job whose workers stopped `most_attempts` times fails."""
        now = self._clock()
        asked = {"now": timestamp(now), "most": most_attempts}
        with self._readers.borrow() as db:
            if not self._read(db, sql_jobs.ANY_WAITING, asked).fetchone()[0]:
                return None
        with self._transaction():
            self._run(sql_jobs.GIVE_UP, asked)
            row = self._run(
                self._dialect.jobs.CLAIM_JOB,
                {**asked, "worker": worker, "until": lease_end(now, lease_seconds)},
            ).fetchone()
        return None if row is None else job_of(row)

    def job(self, job_id: str) -> Job | None:
        with self._lock:
            row = self._run(sql_jobs.GET_JOB, (job_id,)).fetchone()
        return None if row is None else job_of(row)

    def job_files(self, job_id: str, start: int) -> list[JobFile]:
        """The job's files from position `start` on, in order."""
        with self._lock:
            rows = self._run(sql_jobs.JOB_FILES, (job_id, start)).fetchall()
        return [JobFile(str(r[1]), bytes(r[2]), json.loads(r[3])) for r in rows]

    def record_job_progress(
        self,
        job_id: str,
        worker: str,
        outcomes: Sequence[dict[str, Any]],
        lease_seconds: float,
    ) -> bool:
        """The outcomes of the files done so far; False if the job is no longer this worker's."""
        return self._mine(
            sql_jobs.RECORD_PROGRESS,
            job_id,
            worker,
            done=len(outcomes),
            outcomes=dumps(list(outcomes)),
            until=lease_end(self._clock(), lease_seconds),
        )

    def renew_job_lease(self, job_id: str, worker: str, lease_seconds: float) -> bool:
        until = lease_end(self._clock(), lease_seconds)
        return self._mine(sql_jobs.RENEW_LEASE, job_id, worker, until=until)

    def finish_job(self, job_id: str, worker: str, error: str | None = None) -> bool:
        """Done (or failed, with `error`); its files are dropped."""
        with self._transaction():
            cursor = self._run(
                sql_jobs.FINISH_JOB,
                {
                    "job_id": job_id,
                    "worker": worker,
                    "state": "failed" if error else "done",
                    "error": error,
                    "now": timestamp(self._clock()),
                },
            )
            if not cursor.rowcount:
                return False
            self._run(sql_jobs.DROP_JOB_FILES, (job_id,))
        return True

    def _mine(self, statement: str, job_id: str, worker: str, **values: Any) -> bool:
        with self._transaction():
            cursor = self._run(statement, {"job_id": job_id, "worker": worker, **values})
            return bool(cursor.rowcount)
