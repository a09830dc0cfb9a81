"""Sweep records: every filter of one or more layers, cut into visualisations that respect the
request limits. Stored once under the sweep's content id, like visualisation records."""

from __future__ import annotations

from pydantic import BaseModel
from redis import Redis

from core.spec import FilledParams
from core.store import keys, records

# In the per-key record of work, a sweep counts once, as this prefix and its id.
WORK_PREFIX = "sweep:"


class SweepLayer(BaseModel):
    layer: str
    filters: int
    chunks: list[str]  # visualisation ids, in filter order


class SweepRecord(BaseModel):
    id: str
    model: str
    fingerprint: str
    params: FilledParams
    engine: str
    layers: list[SweepLayer]
    created_at: float

    @property
    def chunk_ids(self) -> list[str]:
        return [chunk for layer in self.layers for chunk in layer.chunks]

    def layer(self, name: str) -> SweepLayer | None:
        return next((layer for layer in self.layers if layer.layer == name), None)


def save(redis: Redis, record: SweepRecord, ttl: int) -> SweepRecord:
    """Store the record unless it exists, for `ttl` seconds from now; return the stored one."""
    with redis.pipeline() as pipe:
        records.keep_once(pipe, keys.sweep(record.id), record.model_dump_json(), ttl)
        stored = pipe.execute()[2]
    return SweepRecord.model_validate_json(stored) if stored else record


def load(redis: Redis, sweep_id: str) -> SweepRecord | None:
    raw = redis.get(keys.sweep(sweep_id))
    return SweepRecord.model_validate_json(raw) if raw else None
