"""The queue, and what a job carries besides its arguments: typed progress and error meta."""

from __future__ import annotations

from datetime import datetime, timezone

from pydantic import BaseModel, Field
from redis import Redis
from rq import Queue, worker_registration
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.registry import StartedJobRegistry
from rq.serializers import JSONSerializer
from rq.utils import utcparse

from core import defaults
from core.store import keys, stats
from core.errors import FilterscopeError, RenderFailed

ENDED_BADLY = frozenset({JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED})
ACTIVE = frozenset({JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED,
                    JobStatus.CREATED})


class Progress(BaseModel):
    step: int = Field(description="Optimisation steps done, over all batches of the job.")
    steps: int = Field(description="Optimisation steps the job needs in all.")


class JobError(BaseModel):
    """Why a job failed: the slug of a domain error (or `render-failed`), its title and detail."""

    slug: str
    title: str
    detail: str

    @classmethod
    def of(cls, error: Exception) -> JobError:
        if not isinstance(error, FilterscopeError):
            error = RenderFailed(str(error) or type(error).__name__)
        return cls(slug=error.slug, title=error.title, detail=error.detail)


class SweptQueue(Queue):
    """RQ's queue, with a maintenance lock that outlives a crashed holder by LOCK_TIMEOUT seconds,
    not RQ's 15 minutes: workers and the API's sweep share it, and a worker killed while cleaning
    must not stop the requeueing of abandoned jobs for long."""

    def acquire_maintenance_lock(self) -> bool:
        return bool(self.connection.set(self.registry_cleaning_key, 1, nx=True, ex=defaults.LOCK_TIMEOUT))


def queue(redis: Redis, name: str) -> Queue:
    return SweptQueue(name, connection=redis, serializer=JSONSerializer)


def queue_names(base: str) -> list[str]:
    """The interactive queue, then the bulk one: workers serve them in this order."""
    return [base, base + defaults.BULK_QUEUE_SUFFIX]


def queues(redis: Redis, base: str) -> list[Queue]:
    return [queue(redis, name) for name in queue_names(base)]


def priority_queue(redis: Redis, base: str, cost: int, bulk_cost: int) -> Queue:
    """Where work of this cost (images x steps x pixels) waits: large sweeps in the bulk queue,
    so that small interactive requests never wait behind them."""
    return queue(redis, queue_names(base)[1 if cost > bulk_cost else 0])


class QueuePlace(BaseModel):
    queue: str = Field(description="`interactive` or `bulk` (requests costing more than the server's "
                       "`FILTERSCOPE_BULK_COST`); workers take interactive work first.")
    position: int = Field(description="Jobs a worker takes before this one (0: next).")
    estimated_start_seconds: float | None = Field(
        None, description="Rough seconds until a worker starts it: the jobs ahead times the mean job time so far, "
        "shared by the live workers. Null before any job has finished.")


def place(redis: Redis, job: Job, base: str) -> QueuePlace | None:
    """Where a queued job stands: the jobs ahead of it in its queue, and all of the interactive
    queue for bulk work."""
    names = queue_names(base)
    if job.origin not in names:
        return None
    # LPOS directly: RQ's get_job_position asks the server for its version (INFO) on every call.
    own = redis.lpos(queue(redis, job.origin).key, job.id)
    if own is None:
        return None
    ahead = own + (queue(redis, names[0]).count if job.origin == names[1] else 0)
    totals = stats.totals(redis)
    done = totals.get("jobs_finished", 0.0)
    estimate = None
    if done:
        workers = max(1, len(live_workers(redis)))
        estimate = round((ahead + 1) * totals.get("render_seconds", 0.0) / done / workers, 1)
    return QueuePlace(queue="bulk" if job.origin == names[1] else "interactive", position=ahead,
                      estimated_start_seconds=estimate)


def fetch(redis: Redis, job_id: str) -> Job | None:
    try:
        return Job.fetch(job_id, connection=redis, serializer=JSONSerializer)
    except NoSuchJobError:
        return None


def discard(job: Job) -> None:
    """Delete an ended job, also one whose execution records expired with its worker (RQ's own
    delete raises on those)."""
    try:
        job.delete()
    except ValueError:
        job.connection.delete(job.execution_registry.key)
        job.delete()


def requeue_abandoned(redis: Redis, queue_name: str) -> None:
    """Requeue running jobs whose worker stopped heartbeating (or fail them once out of requeues).

    Idle workers sweep every MAINTENANCE_INTERVAL seconds; the API sweeps when it sees a running
    job, so an abandoned job is found even while every live worker is busy.
    """
    for sweeping in queues(redis, queue_name):
        # RQ's own maintenance lock: a worker cleaning the registries and this sweep never run together.
        if not sweeping.acquire_maintenance_lock():
            continue  # someone else is sweeping this queue right now
        try:
            StartedJobRegistry(queue=sweeping).cleanup()
        finally:
            sweeping.release_maintenance_lock()


def live_workers(redis: Redis) -> list[str]:
    """Keys of the workers whose last heartbeat is at most FRESH_WORKER_SECONDS old.

    Read from RQ's registrations directly: building `rq.Worker` objects would raise the socket
    timeout of the caller's whole connection pool to RQ's dequeue timeout (minutes), which would
    make an API wait that long on a frozen Redis.
    """
    names = sorted(worker_registration.get_keys(connection=redis))
    with redis.pipeline(transaction=False) as pipe:
        for name in names:
            pipe.hget(name, "last_heartbeat")
        beats = pipe.execute()
    now = datetime.now(timezone.utc)

    def fresh(beat: bytes | None) -> bool:
        if not beat:
            return False
        moment = utcparse(beat.decode())
        moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
        return (now - moment).total_seconds() <= defaults.FRESH_WORKER_SECONDS

    return [name for name, beat in zip(names, beats) if fresh(beat)]


def status_of(job: Job | None) -> JobStatus | None:
    """The status read when the job was fetched: no further round trip to Redis."""
    return job.get_status(refresh=False) if job is not None else None


def write_progress(job: Job, progress: Progress) -> None:
    job.meta["progress"] = progress.model_dump()
    job.save_meta()


def read_progress(job: Job) -> Progress | None:
    raw = job.get_meta(refresh=False).get("progress")
    return Progress(**raw) if raw else None


def cancel(redis: Redis, job: Job, ttl: int) -> None:
    """Stop a job: a queued one leaves the queue, a running one stops at its next progress report."""
    redis.set(keys.cancelled(job.id), 1, ex=ttl)
    if job.get_status(refresh=True) != JobStatus.STARTED:
        job.cancel()


def is_cancelled(redis: Redis, job_id: str) -> bool:
    return bool(redis.exists(keys.cancelled(job_id)))


def write_error(job: Job, error: JobError) -> None:
    job.meta["error"] = error.model_dump()
    job.save_meta()


def read_error(job: Job) -> JobError | None:
    raw = job.get_meta(refresh=False).get("error")
    return JobError(**raw) if raw else None
