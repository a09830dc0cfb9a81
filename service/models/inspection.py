"""Asking a worker to load a model and publish what it holds (layers, shapes, fingerprint)."""

from __future__ import annotations

from redis import Redis
from rq.job import JobStatus

from core import defaults
from core.settings import Settings
from core.store import jobs, keys


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
        )
