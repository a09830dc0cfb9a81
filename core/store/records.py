"""Visualisation records: what was asked for, filled in, under its content id. Stored once; the
first `created_at` stays."""

from __future__ import annotations

import time

from pydantic import BaseModel
from redis import Redis
from redis.client import Pipeline

from core.spec import FilledParams, ImageTarget, RenderSpec
from core.store import keys, uploads


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


def keep_once(pipe: Pipeline, name: str, raw: str, ttl: int) -> None:
    """Queue on `pipe`: store `raw` under `name` unless something is stored there, live `ttl`
    seconds from now, and read back what is stored (the third result)."""
    pipe.set(name, raw, nx=True, ex=ttl)
    pipe.expire(name, ttl)
    pipe.get(name)


def save(redis: Redis, record: VisualizationRecord, ttl: int) -> VisualizationRecord:
    """Store the record unless it exists, for `ttl` seconds from now; return the stored one."""
    with redis.pipeline() as pipe:
        keep_once(pipe, keys.visualization(record.id), record.model_dump_json(), ttl)
        for image in record.images:
            pipe.set(keys.image_record(image.key), record.id, ex=ttl)
        # The index orders by last request, the time each record's TTL starts again from: what
        # scores older than the TTL name has expired, and the index itself ends with the last record.
        now = time.time()
        pipe.zadd(keys.VISUALIZATIONS, {record.id: now})
        pipe.zremrangebyscore(keys.VISUALIZATIONS, "-inf", now - ttl)
        pipe.expire(keys.VISUALIZATIONS, ttl)
        stored = pipe.execute()[2]
    return VisualizationRecord.model_validate_json(stored) if stored else record


def holding(redis: Redis, image_key: str) -> VisualizationRecord | None:
    """A record one of whose images has this key, if one is still kept and its model was not deleted
    or replaced since (its images are gone for good then)."""
    record_id = redis.get(keys.image_record(image_key))
    record = load(redis, record_id.decode()) if record_id else None
    if record is None or uploads.revoked(redis, [uploads.owner(record.model, record.fingerprint)])[0]:
        return None
    return record


def load(redis: Redis, visualization_id: str) -> VisualizationRecord | None:
    raw = redis.get(keys.visualization(visualization_id))
    return VisualizationRecord.model_validate_json(raw) if raw else None
