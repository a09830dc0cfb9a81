"""Uploaded models as the store keeps them: one record per id, and the revoked owners whose
images must no longer be served."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel
from redis import Redis
from redis.exceptions import WatchError

from core.store import keys

UploadStatus = Literal["inspecting", "ready", "rejected"]


class UploadRecord(BaseModel):
    id: str
    name: str
    preprocessing: dict
    fingerprint: str
    file: str
    status: UploadStatus = "inspecting"
    detail: str | None = None


def owner(model_id: str, fingerprint: str) -> str:
    """Whose an image is. The model id is part of it because two ids may hold the same file."""
    return f"{model_id}:{fingerprint}"


def save(redis: Redis, record: UploadRecord) -> None:
    redis.hset(keys.UPLOADS, record.id, record.model_dump_json())
    redis.srem(keys.REVOKED_MODELS, owner(record.id, record.fingerprint))


def get(redis: Redis, model_id: str) -> UploadRecord | None:
    raw = redis.hget(keys.UPLOADS, model_id)
    return UploadRecord.model_validate_json(raw) if raw else None


def exists(redis: Redis, model_id: str) -> bool:
    return bool(redis.hexists(keys.UPLOADS, model_id))


def ids(redis: Redis) -> set[str]:
    return {raw.decode() for raw in redis.hkeys(keys.UPLOADS)}


def mark(redis: Redis, model_id: str, fingerprint: str, status: UploadStatus, detail: str | None = None) -> None:
    """Record an inspection's verdict, unless the upload was replaced or deleted meanwhile."""
    with redis.pipeline() as pipe:
        pipe.watch(keys.UPLOADS)
        raw = pipe.hget(keys.UPLOADS, model_id)
        record = UploadRecord.model_validate_json(raw) if raw else None
        if record is None or record.fingerprint != fingerprint:
            return
        pipe.multi()
        pipe.hset(keys.UPLOADS, model_id, record.model_copy(update={"status": status, "detail": detail}).model_dump_json())
        try:
            pipe.execute()
        except WatchError:
            pass  # the record changed under us: the newer upload gets its own inspection


def revoke(redis: Redis, model_id: str, fingerprint: str) -> None:
    redis.sadd(keys.REVOKED_MODELS, owner(model_id, fingerprint))


def remove(redis: Redis, record: UploadRecord) -> None:
    revoke(redis, record.id, record.fingerprint)
    redis.hdel(keys.UPLOADS, record.id)
    Path(record.file).unlink(missing_ok=True)


def revoked(redis: Redis, owners: list[bytes]) -> list[bool]:
    """For each owner, whether its model was deleted or replaced; one round trip for all."""
    return [bool(gone) for gone in redis.smismember(keys.REVOKED_MODELS, owners)] if owners else []
