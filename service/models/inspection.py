"""Asking a worker to load a model and publish what it holds (layers, shapes, fingerprint)."""

from __future__ import annotations

from redis import Redis
from rq import Retry
from rq.job import JobStatus

from core import defaults
from core.settings import Settings
from core.store import jobs, keys, uploads
from core.store.files import model_files
from core.store.jobs import ENDED_BADLY, status_of


def inspection_job_id(model_id: str, version: str = "") -> str:
    """One inspection per model version: a new upload is inspected even while the old one is."""
    return f"inspect-{model_id}-{version}" if version else f"inspect-{model_id}"


def request_inspection(redis: Redis, settings: Settings, model_id: str, version: str = "") -> None:
    """Queue an inspection unless one is queued or running; a finished or failed one is replaced."""
    job_id = inspection_job_id(model_id, version)
    with redis.lock(keys.lock(job_id), timeout=defaults.LOCK_TIMEOUT, blocking_timeout=defaults.LOCK_TIMEOUT,
                    sleep=0.01):
        job = jobs.fetch(redis, job_id)
        if job is not None:
            if job.get_status() in (JobStatus.QUEUED, JobStatus.STARTED):
                return
            jobs.discard(job)
        jobs.queue(redis, settings.queue_name).enqueue(
            defaults.INSPECT_TASK, model_id, job_id=job_id, job_timeout=defaults.INSPECTION_TIMEOUT,
            result_ttl=defaults.INSPECTION_RESULT_TTL, failure_ttl=settings.failure_ttl,
            description=f"inspect {model_id}",
            retry=Retry(max=defaults.MAX_REQUEUES),  # spent only when a worker dies: `inspect` spends none
        )


def follow_inspection(redis: Redis, settings: Settings, model_id: str, file_sha256: str) -> None:
    """Keep an upload's inspection going while it is polled: requeued if its worker died, asked
    again if Redis lost it, and the upload marked rejected if it failed for good."""
    version = file_sha256[:16]
    job_id = inspection_job_id(model_id, version)
    job = jobs.fetch(redis, job_id)
    if status_of(job) == JobStatus.STARTED:  # its worker may have died: requeue it, then look again
        jobs.requeue_abandoned(redis, settings.queue_name)
        job = jobs.fetch(redis, job_id)
    status = status_of(job)
    if status is None or status == JobStatus.FINISHED or (status in ENDED_BADLY and jobs.read_error(job)):
        # Lost with Redis; finished for a record since replaced by the same file; or failed on a
        # passing error (a model that cannot load is marked rejected by the inspection itself).
        request_inspection(redis, settings, model_id, version)
    elif status in ENDED_BADLY:
        reason = f"the inspection was {status.value}: its worker stopped every time it tried"
        if uploads.mark(redis, model_id, file_sha256, "rejected", reason):
            model_files(settings.model_store_url, redis).delete(file_sha256)  # a rejected file is not kept
