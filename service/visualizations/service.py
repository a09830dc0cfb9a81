"""Visualisations as records, jobs and cached images.

A visualisation is stored once under its content id. Its images live in the image cache; the RQ
job that renders the missing ones carries the same id, so however many identical requests arrive
at once, a lock and the job id make sure only one job exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from redis import Redis
from rq import Retry
from rq.job import Job, JobStatus

from core import defaults
from core.errors import Cancelled, FilterscopeError, KeyRequired, ModelNotReady, ModelUnavailable, RenderFailed, StaleModel
from core.settings import Settings
from core.spec import ImageTarget
from core.store import jobs, keys, records, work
from core.store.images import ImageMeta, ImageStore
from core.store.jobs import ACTIVE, ENDED_BADLY, JobError, Progress, status_of
from core.store.records import VisualizationRecord
from service.access import check_cost, check_room, pixel_steps
from service.models import catalog
from service.models.catalog import renderable_model
from service.problems import job_problem
from service.visualizations.schemas import ImageEntry, Visualization


@dataclass(frozen=True)
class SweepPart:
    """What a chunk of a sweep needs to know of it: its whole cost and how it counts in work."""

    cost: int
    work_entry: str


class Visualizations:
    """Service logic of the visualisations domain over one Redis connection."""

    def __init__(self, redis: Redis, settings: Settings, images: ImageStore):
        self.redis = redis
        self.settings = settings
        self.images = images

    def save(self, record: VisualizationRecord) -> VisualizationRecord:
        return records.save(self.redis, record, self.settings.record_ttl)

    def load(self, visualization_id: str) -> VisualizationRecord | None:
        return records.load(self.redis, visualization_id)

    def cached(self, record: VisualizationRecord) -> dict[str, ImageMeta]:
        """What the cache holds of the record's images: read once, for deciding and describing."""
        return self.images.meta([t.key for t in record.images])

    def admit(self, record: VisualizationRecord, cached: dict[str, ImageMeta], client: str) -> None:
        """Refuse a request over its client's limits before anything of it is stored."""
        missing = [t for t in record.images if t.key not in cached]
        if not missing:
            return
        check_cost(record.params, len(missing), self.settings.max_request_cost)
        if status_of(jobs.fetch(self.redis, record.id)) not in ACTIVE:  # joining queued work costs nothing
            check_room(self.redis, self.settings, client)

    def ensure_rendered(self, record: VisualizationRecord, cached: dict[str, ImageMeta], client: str | None,
                        retry_failed: bool = True, part_of: SweepPart | None = None) -> bool:
        """Queue a job for the images not in the cache, unless one is already on its way.

        Returns whether images are on their way. A finished job whose images were evicted since is
        replaced by a new job, counted against `client` (None: a client without a key, who may not
        queue work); so is a failed one, unless `retry_failed` is False (a poll leaves a failure
        for the client to see; only a new POST retries it). Raises why new work is refused. A
        chunk of a sweep (`part_of`) waits in the queue the sweep's whole cost chooses, and counts
        against its client as part of the sweep, which was admitted once.
        """
        image_keys = [t.key for t in record.images]
        if all(key in cached for key in image_keys):
            return False
        status = status_of(jobs.fetch(self.redis, record.id))
        if status == JobStatus.STARTED:
            # Its worker may have died: requeue it if its heartbeat stopped, then look again.
            jobs.requeue_abandoned(self.redis, self.settings.queue_name)
            status = status_of(jobs.fetch(self.redis, record.id))
        if status in ACTIVE:
            return True
        if status in ENDED_BADLY and not retry_failed:
            return False
        self.check_model(record)  # outside the lock: it may read the whole catalog
        with self.redis.lock(keys.lock(record.id), timeout=defaults.LOCK_TIMEOUT,
                             blocking_timeout=defaults.LOCK_TIMEOUT, sleep=0.01):
            # Look again under the lock: another request may have queued, or even finished, the job.
            missing = set(self.images.missing(image_keys))
            if not missing:
                return False
            job = jobs.fetch(self.redis, record.id)
            if status_of(job) in ACTIVE:
                return True
            targets = [t for t in record.images if t.key in missing]
            self.check_limits(record, len(targets), client, room=part_of is None)
            if job is not None:
                jobs.discard(job)
            cost = part_of.cost if part_of else pixel_steps(record.params, len(targets))
            self.enqueue(record, targets, cost)
            work.add(self.redis, client, part_of.work_entry if part_of else record.id, self.settings.job_timeout)
        return True

    def check_model(self, record: VisualizationRecord) -> None:
        """The very model the record was made with is still there and ready to render."""
        model = catalog.get(self.redis, record.model, self.settings.effective_weights_dir)
        if model is None:
            raise ModelUnavailable(f"Model {record.model!r} no longer exists.")
        if model.fingerprint and model.fingerprint != record.fingerprint:
            raise StaleModel(f"Model {record.model!r} was replaced since this visualisation was made; POST the "
                             "request again to render it with the new one.")
        renderable_model(self.redis, self.settings, record.model)  # ready, or why not

    def check_limits(self, record: VisualizationRecord, images: int, client: str | None, room: bool = True) -> None:
        """New work within its client's limits; a client without a key may not queue any."""
        if client is None:
            raise KeyRequired("The images of this visualisation left the cache; rendering them again needs a valid "
                              "X-API-Key header (or POST the request again with one).")
        check_cost(record.params, images, self.settings.max_request_cost)
        if room:
            check_room(self.redis, self.settings, client)

    def enqueue(self, record: VisualizationRecord, targets: list[ImageTarget], cost: int) -> None:
        self.redis.delete(keys.cancelled(record.id))  # a new job after a cancelled one
        queue = jobs.priority_queue(self.redis, self.settings.queue_name, cost, self.settings.bulk_cost)
        queue.enqueue(
            defaults.RENDER_TASK,
            record.spec(targets).model_dump(mode="json"),
            job_id=record.id,
            job_timeout=self.settings.job_timeout,
            result_ttl=self.settings.result_ttl,
            failure_ttl=self.settings.failure_ttl,
            description=f"{record.model} {record.layer} {record.params.objective.value} "
            f"filters {sorted({t.filter for t in targets}, key=str)}",
            meta={"progress": Progress(step=0, steps=record.params.steps).model_dump()},
            retry=Retry(max=defaults.MAX_REQUEUES),  # spent only when a worker dies mid-job
        )
        self.redis.incr(keys.JOBS_CREATED)

    def cancel(self, record: VisualizationRecord) -> None:
        """Stop its job if queued or running; images already made stay in the cache."""
        job = jobs.fetch(self.redis, record.id)
        if status_of(job) in ACTIVE:
            jobs.cancel(self.redis, job, self.settings.job_timeout)

    def describe(self, record: VisualizationRecord, cached: dict[str, ImageMeta],
                 refusal: FilterscopeError | None = None) -> Visualization:
        """The visualisation as a client sees it; `refusal` is why its missing images were not queued."""
        job = jobs.fetch(self.redis, record.id)
        status = job_status(job, complete=len(cached) == len(record.images), refused=refusal is not None)
        if status == "expired" and isinstance(refusal, ModelNotReady):
            status = "queued"  # its model is being inspected again (a restarted Redis): queued once it is
        finished = status == "finished"
        return Visualization(
            id=record.id,
            status=status,
            model=record.model,
            layer=record.layer,
            filters=record.filters,
            params=record.params,
            progress=progress_of(job, finished, record.params.steps),
            created_at=timestamp(record.created_at),
            started_at=as_utc(job.started_at) if job else None,
            finished_at=finished_at(job, cached) if finished else None,
            images=[image_entry(t, cached[t.key]) for t in record.images if t.key in cached],
            grid_url=f"/v1/visualizations/{record.id}/grid.png" if finished else None,
            progress_url=f"/v1/visualizations/{record.id}/progress.webp" if finished else None,
            error=error_of(job, status, refusal),
            queue=jobs.place(self.redis, job, self.settings.queue_name) if status == "queued" and job else None,
        )


def job_status(job: Job | None, complete: bool, refused: bool = False) -> str:
    if complete:
        return "finished"
    status = status_of(job)
    if status == JobStatus.STARTED:
        return "running"
    if status in ENDED_BADLY:
        return "cancelled" if status == JobStatus.CANCELED or cancelled_by_request(job) else "failed"
    return "expired" if refused else "queued"  # missing images not queued again, and why; or on their way


def cancelled_by_request(job: Job) -> bool:
    recorded = jobs.read_error(job)
    return recorded is not None and recorded.slug == Cancelled.slug


def error_of(job: Job | None, status: str, refusal: FilterscopeError | None) -> dict | None:
    if status in ("failed", "cancelled"):
        return job_problem(failure_of(job))
    if status == "expired" and refusal is not None:
        return job_problem(JobError.of(refusal))
    return None


def progress_of(job: Job | None, finished: bool, steps: int) -> Progress:
    done = jobs.read_progress(job) if job is not None else None
    if done is not None:
        return Progress(step=done.steps, steps=done.steps) if finished else done
    return Progress(step=steps if finished else 0, steps=steps)


def failure_of(job: Job) -> JobError:
    """Why the job ended badly: the error its worker recorded, or what RQ knows."""
    status = status_of(job)
    if status == JobStatus.CANCELED:
        return JobError.of(Cancelled(f"Visualisation {job.id} was cancelled before it started."))
    if status == JobStatus.STOPPED:
        return JobError.of(RenderFailed(f"The job was {status.value}."))
    recorded = jobs.read_error(job)
    if recorded is not None:
        return recorded
    last_line = job.exc_info.strip().splitlines()[-1] if job.exc_info else "The worker failed without a message."
    return JobError.of(RenderFailed(last_line))


def image_entry(target: ImageTarget, meta: ImageMeta) -> ImageEntry:
    return ImageEntry(filter=target.filter, index=target.index, url=f"/v1/images/{target.key}.png",
                      activation=meta.activation, curve=meta.curve,
                      alive=meta.quality.alive if meta.quality else None, quality=meta.quality)


def finished_at(job: Job | None, cached: dict[str, ImageMeta]) -> datetime | None:
    if job is not None and job.ended_at:
        return as_utc(job.ended_at)
    return timestamp(max(m.created_at for m in cached.values())) if cached else None


def timestamp(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def as_utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
