"""Asking a worker to load a model and publish what it holds (layers, shapes, fingerprint)."""

from __future__ import annotations

from redis import Redis
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from service.settings import Settings
from service.visualizations.jobs import LOCK_PREFIX

INSPECT_TASK = "worker.tasks.inspect"
INSPECTION_TIMEOUT = 600


def inspection_job_id(model_id: str, version: str = "") -> str:
    """One inspection per model version: a new upload is inspected even while the old one is."""
    return f"inspect-{model_id}-{version}" if version else f"inspect-{model_id}"


def request_inspection(redis: Redis, settings: Settings, model_id: str, version: str = "") -> None:
    """Queue an inspection unless one is queued or running; a finished or failed one is replaced."""
    job_id = inspection_job_id(model_id, version)
    with redis.lock(LOCK_PREFIX + job_id, timeout=30, blocking_timeout=30, sleep=0.01):
        try:
            job = Job.fetch(job_id, connection=redis, serializer=JSONSerializer)
            if job.get_status() in (JobStatus.QUEUED, JobStatus.STARTED):
                return
            job.delete()
        except NoSuchJobError:
            pass
        Queue(settings.queue_name, connection=redis, serializer=JSONSerializer).enqueue(
            INSPECT_TASK, model_id, job_id=job_id, job_timeout=INSPECTION_TIMEOUT, result_ttl=60,
            failure_ttl=settings.failure_ttl, description=f"inspect {model_id}",
        )
