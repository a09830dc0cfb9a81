"""Uploaded models as the store keeps them: one record per id, and the revoked owners whose
images must no longer be served.

An upload has two digests. `file_sha256` is its file's, the address of its bytes in the model file
store, and names the upload's version (a new file is inspected anew). `fingerprint` is what the
model computes, filled in by the worker that inspected it: part of every image key, and of the
owner of the images. A file saved again, with the same architecture and weights, has a new
`file_sha256` and the same `fingerprint`, so its images stay valid.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, model_validator
from redis import Redis
from redis.exceptions import WatchError

from core.store import keys

UploadStatus = Literal["inspecting", "ready", "rejected"]


class UploadRecord(BaseModel):
    id: str
    name: str
    preprocessing: dict
    file_sha256: str
    fingerprint: str = ""  # empty until a worker inspected this file
    status: UploadStatus = "inspecting"
    detail: str | None = None
    file: str | None = None  # the local path of an upload made before files were stored for every worker

    @model_validator(mode="before")
    @classmethod
    def from_earlier_versions(cls, data: object) -> object:
        # Earlier records held the file's digest as `fingerprint`; it is inspected again to get the new one.
        if isinstance(data, dict) and "file_sha256" not in data and "fingerprint" in data:
            data = data | {"file_sha256": data["fingerprint"], "fingerprint": "", "status": "inspecting"}
        return data


def owner(model_id: str, fingerprint: str) -> str:
    """Whose an image is. The model id is part of it because two ids may hold the same file."""
    return f"{model_id}:{fingerprint}"


def save(redis: Redis, record: UploadRecord) -> None:
    redis.hset(keys.UPLOADS, record.id, record.model_dump_json())
    if record.fingerprint:
        redis.srem(keys.REVOKED_MODELS, owner(record.id, record.fingerprint))


def get(redis: Redis, model_id: str) -> UploadRecord | None:
    raw = redis.hget(keys.UPLOADS, model_id)
    return UploadRecord.model_validate_json(raw) if raw else None


def exists(redis: Redis, model_id: str) -> bool:
    return bool(redis.hexists(keys.UPLOADS, model_id))


def ids(redis: Redis) -> set[str]:
    return {raw.decode() for raw in redis.hkeys(keys.UPLOADS)}


def mark(redis: Redis, model_id: str, file_sha256: str, status: UploadStatus, detail: str | None = None,
         fingerprint: str = "") -> bool:
    """Record an inspection's verdict (and, when ready, the model's fingerprint), unless the upload
    was replaced or deleted meanwhile. A ready model's images are served again: a file saved anew
    with the same weights owns the images of the one it replaced."""
    with redis.pipeline() as pipe:
        pipe.watch(keys.UPLOADS)
        raw = pipe.hget(keys.UPLOADS, model_id)
        record = UploadRecord.model_validate_json(raw) if raw else None
        if record is None or record.file_sha256 != file_sha256:
            return False
        update = {"status": status, "detail": detail} | ({"fingerprint": fingerprint} if fingerprint else {})
        pipe.multi()
        pipe.hset(keys.UPLOADS, model_id, record.model_copy(update=update).model_dump_json())
        if status == "ready" and fingerprint:
            pipe.srem(keys.REVOKED_MODELS, owner(model_id, fingerprint))
        try:
            pipe.execute()
        except WatchError:
            return False  # the record changed under us: the newer upload gets its own inspection
    return True


def revoke(redis: Redis, model_id: str, fingerprint: str) -> None:
    if fingerprint:
        redis.sadd(keys.REVOKED_MODELS, owner(model_id, fingerprint))


def remove(redis: Redis, record: UploadRecord) -> None:
    revoke(redis, record.id, record.fingerprint)
    redis.hdel(keys.UPLOADS, record.id)


def file_in_use(redis: Redis, file_sha256: str) -> bool:
    """Whether any upload record still refers to this stored file (two ids may hold the same one)."""
    return any(UploadRecord.model_validate_json(raw).file_sha256 == file_sha256 for raw in redis.hvals(keys.UPLOADS))


def revoked(redis: Redis, owners: list[bytes]) -> list[bool]:
    """For each owner, whether its model was deleted or replaced; one round trip for all."""
    return [bool(gone) for gone in redis.smismember(keys.REVOKED_MODELS, owners)] if owners else []
