"""The catalog as stored: what workers published about the models they loaded, and the weights
files that failed to load."""

from __future__ import annotations

import json
from redis import Redis

from core.models import ModelInfo
from core.store import keys, uploads


def publish(redis: Redis, info: ModelInfo) -> None:
    """Publish what a worker loaded; the images of exactly this model (its fingerprint) are valid."""
    with redis.pipeline() as pipe:
        pipe.hset(keys.MODELS, info.id, info.model_dump_json())
        pipe.srem(keys.REVOKED_MODELS, uploads.owner(info.id, info.fingerprint))
        pipe.execute()


def unpublish(redis: Redis, model_id: str) -> None:
    redis.hdel(keys.MODELS, model_id)


def published(redis: Redis, model_id: str) -> ModelInfo | None:
    raw = redis.hget(keys.MODELS, model_id)
    return ModelInfo.model_validate_json(raw) if raw else None


def published_ids(redis: Redis) -> set[str]:
    return {raw.decode() for raw in redis.hkeys(keys.MODELS)}


def record_failure(redis: Redis, model_id: str, stamp: str, detail: str) -> None:
    redis.hset(keys.INSPECTION_FAILURES, model_id, json.dumps({"stamp": stamp, "detail": detail}))


def failure(redis: Redis, model_id: str, stamp: str) -> str | None:
    """Why this very weights file failed to load, if it did."""
    raw = redis.hget(keys.INSPECTION_FAILURES, model_id)
    if not raw:
        return None
    recorded = json.loads(raw)
    return recorded["detail"] if recorded["stamp"] == stamp else None
