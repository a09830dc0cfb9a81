"""Visualisations as records, jobs and cached images.

A visualisation is stored once under its content id. Its images live in the image cache; the RQ
job that renders the missing ones carries the same id, so however many identical requests arrive
at once, a lock and the job id make sure only one job exists.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone

from pydantic import BaseModel
from redis import Redis
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from service.images.store import ImageMeta, ImageStore
from service.models.catalog import LayerInfo, ModelInfo
from service.problems import invalid
from service.settings import Settings
from service.visualizations import keys
from service.visualizations.schemas import (
    ENGINE_VERSION,
    FilledParams,
    ImageEntry,
    Method,
    Objective,
    ImageTarget,
    Progress,
    RenderSpec,
    Visualization,
    VisualizationRequest,
)

RECORD_PREFIX = "filterscope:visualization:"
LOCK_PREFIX = "filterscope:lock:"
JOBS_CREATED_KEY = "filterscope:stats:jobs_created"  # render jobs ever enqueued, for operators
RENDER_TASK = "worker.tasks.render"
ENDED_BADLY = {JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED}
ACTIVE = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED, JobStatus.CREATED}


class VisualizationRecord(BaseModel):
    id: str
    model: str
    fingerprint: str
    layer: str
    filters: list[int | None]
    params: FilledParams
    engine: str
    images: list[ImageTarget]
    created_at: float

    def spec(self, only: list[ImageTarget] | None = None) -> RenderSpec:
        return RenderSpec(model=self.model, fingerprint=self.fingerprint, layer=self.layer, params=self.params,
                          engine=self.engine, images=only if only is not None else self.images)


def build_record(request: VisualizationRequest, model: ModelInfo) -> VisualizationRecord:
    """Check the request against the model's metadata and fill in everything it left out."""
    layer = model.layer(request.layer)
    if layer is None:
        names = ", ".join(known.name for known in model.layers)
        raise invalid("layer", f"model {model.id!r} has no visualisable layer {request.layer!r}; valid layers: {names}")
    params = request.params.filled()
    filters = checked_filters(request, layer, params)
    check_method(params, layer)
    check_input(params, model)
    content = (model.id, model.fingerprint, layer.name)
    images = [
        ImageTarget(filter=f, index=i, key=keys.image_key(*content, f, i, params, ENGINE_VERSION))
        for f in filters
        for i in range(params.diversity)
    ]
    return VisualizationRecord(
        id=keys.visualization_id(*content, filters, params, ENGINE_VERSION),
        model=model.id, fingerprint=model.fingerprint, layer=layer.name, filters=filters,
        params=params, engine=ENGINE_VERSION, images=images, created_at=time.time(),
    )


def checked_filters(request: VisualizationRequest, layer: LayerInfo, params: FilledParams) -> list[int | None]:
    """The unit indices to render; `[None]` for the whole-layer objective, which takes none."""
    if params.objective is Objective.layer:
        if request.filters:
            raise invalid("filters", "omit filters with objective 'layer': it visualises the whole layer")
        return [None]
    if not request.filters:
        raise invalid("filters", f"at least 1 filter index is required with objective {params.objective.value!r}")
    for position, index in enumerate(request.filters):
        if index >= layer.filters:
            raise invalid(f"filters[{position}]",
                          f"filter {index} is out of range: layer {layer.name!r} has {layer.filters} filters (0..{layer.filters - 1})")
    return list(request.filters)


def check_method(params: FilledParams, layer: LayerInfo) -> None:
    is_vector = len(layer.output_shape) == 1
    if params.objective is Objective.logit and not is_vector:
        raise invalid("params.objective", f"'logit' needs a Dense (class) layer; {layer.name!r} outputs feature maps")
    if params.objective is Objective.neuron and is_vector:
        raise invalid("params.objective", f"'neuron' needs a feature map; {layer.name!r} is a Dense layer (use 'channel')")
    if params.method is Method.seed and (params.diversity > 1 or params.objective is Objective.logit):
        raise invalid("params.method", "the 'seed' method optimises one image per filter on the layer's output: "
                      "it supports neither diversity nor 'logit'; use 'fourier'")


def check_input(params: FilledParams, model: ModelInfo) -> None:
    """The seed method feeds its Dense layer's pixels to the model as they are: they must fit."""
    if params.method is not Method.seed or not model.input_shape:
        return
    height, _, channels = model.input_shape
    if channels != 3:
        raise invalid("params.method", f"the 'seed' method needs a 3-channel model; {model.id!r} takes {channels}")
    if height and params.image_size != height:
        raise invalid("params.image_size", f"the 'seed' method renders at the input size of {model.id!r}: {height}")


class Visualizations:
    """Service logic of the visualisations domain over one Redis connection."""

    def __init__(self, redis: Redis, settings: Settings):
        self.redis = redis
        self.settings = settings
        self.images = ImageStore(redis, settings.image_ttl)
        self.queue = Queue(settings.queue_name, connection=redis, serializer=JSONSerializer)

    def save(self, record: VisualizationRecord) -> VisualizationRecord:
        """Store the record unless it exists; return the stored one (its created_at stays the first)."""
        self.redis.set(RECORD_PREFIX + record.id, record.model_dump_json(), nx=True)
        return self.load(record.id) or record

    def load(self, visualization_id: str) -> VisualizationRecord | None:
        raw = self.redis.get(RECORD_PREFIX + visualization_id)
        return VisualizationRecord.model_validate_json(raw) if raw else None

    def job(self, visualization_id: str) -> Job | None:
        try:
            return Job.fetch(visualization_id, connection=self.redis, serializer=JSONSerializer)
        except NoSuchJobError:
            return None

    def ensure_rendered(self, record: VisualizationRecord, retry_failed: bool = True) -> bool:
        """Queue a job for the images not in the cache, unless one is already on its way.

        Returns whether images are on their way. A finished job whose images were evicted since is
        replaced by a new job; so is a failed one, unless `retry_failed` is False (a poll leaves a
        failure for the client to see; only a new POST retries it).
        """
        image_keys = [t.key for t in record.images]
        if not self.images.missing(image_keys):
            return False
        status = status_of(self.job(record.id))
        if status in ACTIVE:
            return True
        if status in ENDED_BADLY and not retry_failed:
            return False
        with self.redis.lock(LOCK_PREFIX + record.id, timeout=30, blocking_timeout=30, sleep=0.01):
            # Look again under the lock: another request may have queued, or even finished, the job.
            missing = set(self.images.missing(image_keys))
            if not missing:
                return False
            job = self.job(record.id)
            if status_of(job) in ACTIVE:
                return True
            if job is not None:
                job.delete()
            targets = [t for t in record.images if t.key in missing]
            self.queue.enqueue(
                RENDER_TASK,
                record.spec(targets).model_dump(mode="json"),
                job_id=record.id,
                job_timeout=self.settings.job_timeout,
                result_ttl=self.settings.result_ttl,
                failure_ttl=self.settings.failure_ttl,
                description=f"{record.model} {record.layer} {record.params.objective.value} "
                f"filters {sorted({t.filter for t in targets}, key=str)}",
                meta={"progress": {"step": 0, "steps": record.params.steps}},
            )
            self.redis.incr(JOBS_CREATED_KEY)
        return True

    def describe(self, record: VisualizationRecord) -> Visualization:
        cached = self.images.meta([t.key for t in record.images])
        job = self.job(record.id)
        status = job_status(job, complete=len(cached) == len(record.images))
        return Visualization(
            id=record.id,
            status=status,
            model=record.model,
            layer=record.layer,
            filters=record.filters,
            params=record.params,
            progress=progress_of(job, status, record.params.steps),
            created_at=timestamp(record.created_at),
            started_at=as_utc(job.started_at) if job else None,
            finished_at=finished_at(job, cached) if status == "finished" else None,
            images=[image_entry(t, cached[t.key]) for t in record.images if t.key in cached],
            grid_url=f"/v1/visualizations/{record.id}/grid.png" if status == "finished" else None,
            progress_url=f"/v1/visualizations/{record.id}/progress.webp" if status == "finished" else None,
            error=failure_of(job) if status == "failed" else None,
        )


def status_of(job: Job | None) -> JobStatus | None:
    """The status read when the job was fetched: no further round trip to Redis."""
    return job.get_status(refresh=False) if job is not None else None


def job_status(job: Job | None, complete: bool) -> str:
    if complete:
        return "finished"
    if job is None:
        return "queued"
    status = status_of(job)
    if status == JobStatus.STARTED:
        return "running"
    if status in ENDED_BADLY:
        return "failed"
    return "queued"


def progress_of(job: Job | None, status: str, steps: int) -> Progress:
    if job is not None:
        progress = job.get_meta(refresh=False).get("progress")
        if progress:
            done = Progress(**progress)
            return Progress(step=done.steps, steps=done.steps) if status == "finished" else done
    return Progress(step=steps if status == "finished" else 0, steps=steps)


def failure_of(job: Job | None) -> dict:
    meta = job.get_meta(refresh=False) if job else {}
    error = meta.get("error") or {}
    detail = error.get("detail")
    if not detail and job is not None and job.exc_info:
        detail = job.exc_info.strip().splitlines()[-1]
    if status_of(job) in (JobStatus.STOPPED, JobStatus.CANCELED):
        detail = f"The job was {status_of(job).value}."
    return {"type": "/problems/" + error.get("slug", "render-failed"), "title": error.get("title", "Rendering failed"),
            "status": 500, "detail": detail or "The worker failed without a message."}


def image_entry(target: ImageTarget, meta: ImageMeta) -> ImageEntry:
    return ImageEntry(filter=target.filter, index=target.index, url=f"/v1/images/{target.key}.png",
                      activation=meta.activation, curve=meta.curve)


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
