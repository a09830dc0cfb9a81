"""Standard models' weights files added through the API or `filterscope weights add`: stored once
in the model file store, for every worker to fetch, and found here by model id.

A file in a weights directory of the machine itself still counts, and comes first: that is how a
single-machine install has always worked.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel
from redis import Redis

from core.standard import StandardModel, find_weights, weights_stamp
from core.store import keys


class StoredWeights(BaseModel):
    model: str
    file_sha256: str
    size: int


@dataclass(frozen=True)
class Weights:
    """Where a standard model's weights are: a local file, or a stored one (by digest)."""

    stamp: str  # changes when the file does, so that a replaced file gets a new chance to load
    path: Path | None = None
    stored: StoredWeights | None = None

    @property
    def where(self) -> str:
        return str(self.path) if self.path else f"the stored file {self.stored.file_sha256[:16]}…"


def save(redis: Redis, weights: StoredWeights) -> None:
    redis.hset(keys.WEIGHTS, weights.model, weights.model_dump_json())


def get(redis: Redis, model_id: str) -> StoredWeights | None:
    raw = redis.hget(keys.WEIGHTS, model_id)
    return StoredWeights.model_validate_json(raw) if raw else None


def locate(redis: Redis, model: StandardModel, weights_dir: Path) -> Weights | None:
    if (path := find_weights(model, weights_dir)) is not None:
        return Weights(stamp=weights_stamp(path), path=path)
    if (stored := get(redis, model.id)) is not None:
        return Weights(stamp=f"sha256:{stored.file_sha256}", stored=stored)
    return None
