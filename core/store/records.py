"""Visualisation records: what was asked for, filled in, under its content id. Stored once; the
first `created_at` stays."""

from __future__ import annotations

from pydantic import BaseModel
from redis import Redis

from core.spec import FilledParams, ImageTarget, RenderSpec
from core.store import keys


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


def save(redis: Redis, record: VisualizationRecord, ttl: int) -> VisualizationRecord:
    """Store the record unless it exists, for `ttl` seconds from now; return the stored one."""
    name = keys.visualization(record.id)
    with redis.pipeline() as pipe:
        pipe.set(name, record.model_dump_json(), nx=True, ex=ttl)
        pipe.expire(name, ttl)
        pipe.get(name)
        _, _, stored = pipe.execute()
    return VisualizationRecord.model_validate_json(stored) if stored else record


def load(redis: Redis, visualization_id: str) -> VisualizationRecord | None:
    raw = redis.get(keys.visualization(visualization_id))
    return VisualizationRecord.model_validate_json(raw) if raw else None
