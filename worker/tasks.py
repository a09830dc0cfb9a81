"""The job functions: render the images of a spec into the cache, reporting progress, and inspect
a model for the catalog. Failures are recorded in the job's meta as typed errors."""

from __future__ import annotations

import json
import logging
import time
from contextlib import suppress
from functools import lru_cache
from typing import Callable

from redis import Redis
from redis.exceptions import RedisError
from rq import get_current_job
from rq.job import Job

from core import defaults
from core.errors import Cancelled, ModelUnavailable, RenderFailed, StaleModel
from core.settings import get_settings
from core.spec import RenderSpec
from core.standard import STANDARD_MODELS
from core.store import catalog, jobs, keys, stats, uploads, weights
from core.store.claims import Claims
from core.store.images import ImageStore, NewImage
from core.store.jobs import JobError, Progress
from core.store.retrying import retrying
from core.store.uploads import UploadRecord
from worker.consumer import beating
from worker.engine.images import encode_filmstrip, encode_png
from worker.engine.render import Rendering
from worker.engine.render import render as render_images
from worker.models.registry import current
from worker.probe import probe

log = logging.getLogger("filterscope.worker")


class JobProgress:
    """Writes {step, steps} into the job's meta, at most every PROGRESS_INTERVAL seconds."""

    def __init__(self, job: Job | None, clock: Callable[[], float] = time.monotonic):
        self.job = job
        self.clock = clock
        self.last = float("-inf")

    def __call__(self, step: int, steps: int) -> None:
        now = self.clock()
        if self.job is None or (now - self.last < defaults.PROGRESS_INTERVAL and step < steps):
            return
        self.last = now
        try:
            jobs.write_progress(self.job, Progress(step=step, steps=steps))
            cancelled = jobs.is_cancelled(self.job.connection, self.job.id)
        except RedisError as error:  # progress is a courtesy: rendering goes on through a blip
            log.warning("progress of %s not written: %s", self.job.id, error)
            return
        if cancelled:
            raise Cancelled(f"Visualisation {self.job.id} was cancelled at step {step} of {steps}; the images "
                            "finished before are kept.")


def render(spec: dict) -> dict:
    job = get_current_job()
    started = time.monotonic()
    try:
        if jobs.is_cancelled(job.connection, job.id):  # cancelled as a worker took it from the queue
            raise Cancelled(f"Visualisation {job.id} was cancelled before it started.")
        result = render_spec(RenderSpec.model_validate(spec), job)
    except Exception as error:
        job.retries_left = 0  # rendering again would fail again: requeues are for dead workers
        jobs.write_error(job, JobError.of(error))
        log.warning("visualisation %s failed: %s", job.id, error)
        count(job, "cancelled" if isinstance(error, Cancelled) else "failed", started, 0)
        raise
    count(job, "finished", started, sum(spec["params"]["steps"] for _ in result["rendered"]))
    return result


def count(job: Job, outcome: str, started: float, image_steps: int) -> None:
    with suppress(RedisError):  # counters are for operators; a blip loses a count, not a job
        stats.record_job(job.connection, outcome, time.monotonic() - started, image_steps)


def inspect(model_id: str) -> dict:
    """Load a model, check it can be visualised, and publish its metadata to the catalog.

    An upload that fails to load is marked rejected with the reason, which GET /v1/models/{id}
    shows. Any other error is recorded and not retried: polling the model asks for a new inspection.
    """
    job = get_current_job()
    try:
        return inspect_model(job, model_id)
    except Exception as error:
        job.retries_left = 0  # requeues are for dead workers
        with suppress(RedisError):
            jobs.write_error(job, JobError.of(error))
        raise


def inspect_model(job: Job, model_id: str) -> dict:
    redis = job.connection
    upload = uploads.get(redis, model_id)
    settings = get_settings()
    registry = current(settings)
    try:
        if upload is not None:  # a user's file is loaded in a watched child first
            probe(registry.upload_file(upload), settings.inspection_memory_bytes, defaults.INSPECTION_TIMEOUT / 2)
        loaded = registry.get(model_id, upload)
    except Exception as error:
        reason = f"{type(error).__name__}: {error}"
        if upload is not None:
            if uploads.mark(redis, model_id, upload.file_sha256, "rejected", reason):
                registry.files.drop(upload.file_sha256)  # a rejected file is not kept
        elif (standard := STANDARD_MODELS.get(model_id)) and (
                found := weights.locate(redis, standard, settings.effective_weights_dir)):
            catalog.record_failure(redis, model_id, found.stamp, reason)
        else:
            raise
        return {"model": model_id, "rejected": reason}
    if upload is not None and uploads.get(redis, model_id) != upload:
        return {"model": model_id, "superseded": True}  # replaced or deleted while it was being loaded
    catalog.publish(redis, loaded.info)
    if upload is not None:
        uploads.mark(redis, model_id, upload.file_sha256, "ready", fingerprint=loaded.info.fingerprint)
    publish_held(job)
    return {"model": model_id, "layers": len(loaded.info.layers), "fingerprint": loaded.info.fingerprint}


def publish_held(job: Job) -> None:
    """Which models this worker holds loaded, for operators (expires if the worker goes away)."""
    held = current(get_settings()).held()
    try:
        job.connection.set(keys.worker_models(job.worker_name), json.dumps(held), ex=defaults.HELD_MODELS_TTL)
    except RedisError as error:
        log.warning("held models not published: %s", error)


def render_spec(spec: RenderSpec, job: Job) -> dict:
    settings = get_settings()
    loaded = current(settings).get(spec.model, current_upload(spec, job.connection))
    if loaded.info.fingerprint != spec.fingerprint:
        raise StaleModel(f"model {spec.model!r} changed since the request was made; submit it again")
    store = ImageStore(cache_redis(settings.effective_cache_redis_url), job.connection, settings.image_ttl)
    key_of = {(t.filter, t.index): t.key for t in spec.images}
    claims = Claims(job.connection, job.worker_name or job.id)
    progress = JobProgress(job)
    results, rendered = [], set()
    # Claims live as long as this worker does: renewed with its heartbeat, gone soon after it dies.
    try:
        with beating(claims.renew, defaults.HEARTBEAT_INTERVAL):
            pending = missing_units(spec, store)
            while pending:
                # A unit another worker is rendering (for an overlapping request) is left to it and
                # waited for; if that worker dies, its claim expires and the unit is taken over here.
                mine = claims.take([key_of[(unit, 0)] for unit in pending])
                units = [unit for unit in pending if key_of[(unit, 0)] in mine]
                if lost := rendered.intersection(units):
                    raise_lost(spec, job.connection, lost)
                rendered.update(units)
                if units:
                    renderings = render_images(loaded.target(spec.layer), units, spec.params, on_progress=progress,
                                               memory_budget=settings.worker_memory_bytes)
                    results += [keep(store, spec, key_of, rendering) for rendering in renderings]
                else:
                    time.sleep(defaults.CLAIM_POLL)
                pending = missing_units(spec, store)
    finally:  # after the heartbeat stopped, so that no renewal brings a released claim back
        with suppress(RedisError):  # unreleased claims expire on their own
            claims.release()
    publish_held(job)
    return {"rendered": results}


def current_upload(spec: RenderSpec, redis: Redis) -> UploadRecord | None:
    """The upload record of the spec's model, checked before its file is opened: a deleted, rejected
    or replaced upload is never loaded for a request made against another file."""
    upload = retrying(lambda: uploads.get(redis, spec.model), defaults.REDIS_PATIENCE, "upload record")
    if upload is None:
        if spec.model not in STANDARD_MODELS and spec.model not in current(get_settings()).builtin_ids():
            raise ModelUnavailable(f"model {spec.model!r} was deleted; upload it again")
        return None
    if upload.fingerprint != spec.fingerprint:
        raise StaleModel(f"model {spec.model!r} was replaced since the request was made; submit it again")
    if upload.status == "rejected":
        raise ModelUnavailable(f"model {spec.model!r} was rejected: {upload.detail}")
    return upload


def raise_lost(spec: RenderSpec, redis: Redis, units: set) -> None:
    """Images this job stored that are gone again: revoked (the model was deleted or replaced
    meanwhile) or evicted at once by a full cache. Rendering them again would only loop."""
    current_upload(spec, redis)  # raises if the model went away
    raise RenderFailed(f"the images of filters {sorted(units, key=str)} were dropped from the cache as soon as they "
                       "were stored (a cache too small for this request, or restarted meanwhile)")


@lru_cache
def cache_redis(url: str) -> Redis:
    """The image cache's Redis: the queue's own unless CACHE_REDIS_URL names another. With timeouts,
    so that a frozen one fails a write, which is retried, instead of hanging the job."""
    return Redis.from_url(url, socket_timeout=defaults.WORKER_CACHE_TIMEOUT,
                          socket_connect_timeout=defaults.WORKER_CACHE_TIMEOUT)


def missing_units(spec: RenderSpec, store: ImageStore) -> list[int | None]:
    """Units with any image not cached. The images of a unit are rendered together (their diversity
    penalty couples them), so such a unit is rendered whole; its cached siblings come out the same."""
    image_keys = [t.key for t in spec.images]
    missing = set(retrying(lambda: store.missing(image_keys), defaults.REDIS_PATIENCE, "cache lookup"))
    return list(dict.fromkeys(t.filter for t in spec.images if t.key in missing))


def keep(store: ImageStore, spec: RenderSpec, key_of: dict, rendering: Rendering) -> dict:
    """Encode one rendering and store it under its key."""
    key = key_of[(rendering.filter, rendering.index)]
    png = encode_png(rendering.pixels, image_spec(spec, rendering))
    image = NewImage(png, rendering.activation, rendering.curve, encode_filmstrip(rendering.frames), rendering.quality)
    # A finished image is the job's whole worth: keep it through a Redis blip.
    retrying(lambda: store.put(key, image, spec.model, spec.fingerprint), defaults.REDIS_PATIENCE, f"image {key}")
    log.info("image %s stored (%s %s filter %s #%d, activation %.2f)", key, spec.model, spec.layer, rendering.filter,
             rendering.index, rendering.activation)
    return {"filter": rendering.filter, "index": rendering.index, "key": key, "activation": rendering.activation,
            "start_activation": rendering.start_activation, "alive": rendering.quality.alive}


def image_spec(spec: RenderSpec, rendering: Rendering) -> dict:
    """What a PNG's `filterscope` text chunk says about it."""
    return {
        "model": spec.model,
        "fingerprint": spec.fingerprint,
        "layer": spec.layer,
        "filter": rendering.filter,
        "index": rendering.index,
        "params": spec.params.model_dump(mode="json"),
        "engine": spec.engine,
        "activation": round(rendering.activation, 6),
        "curve": rendering.curve,
        "quality": rendering.quality.model_dump(),
    }
