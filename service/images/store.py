"""The image cache: PNG bytes in Redis under their content keys.

Each image is one hash (png, etag, activation, curve, created_at, and the filmstrip of snapshots
its optimisation went through) with a TTL, so an evicted image loses
all its fields at once. With `maxmemory-policy volatile-lru` Redis evicts only these keys, never
the queue's or the visualisation records.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass

from redis import Redis

from service.models import uploads

IMAGE_PREFIX = "filterscope:image:"
META_FIELDS = ("etag", "activation", "created_at", "curve")


@dataclass(frozen=True)
class ImageMeta:
    etag: str
    activation: float
    created_at: float
    curve: list[float]


def etag_for(png: bytes) -> str:
    return '"' + hashlib.sha256(png).hexdigest()[:32] + '"'


class ImageStore:
    def __init__(self, redis: Redis, ttl: int):
        self.redis = redis
        self.ttl = ttl

    def put(self, key: str, png: bytes, activation: float, curve: list[float], filmstrip: bytes,
            model: str, fingerprint: str) -> None:
        name = IMAGE_PREFIX + key
        fields = {"png": png, "etag": etag_for(png), "activation": repr(float(activation)),
                  "owner": uploads.owner(model, fingerprint),
                  "curve": json.dumps(curve), "created_at": repr(time.time()), "filmstrip": filmstrip}
        with self.redis.pipeline() as pipe:
            pipe.hset(name, mapping=fields)
            pipe.expire(name, self.ttl)
            pipe.execute()

    def png(self, key: str) -> tuple[bytes, str] | None:
        """The PNG and its ETag, unless absent or rendered by a model that has since been deleted."""
        png, etag, owner = self.redis.hmget(IMAGE_PREFIX + key, "png", "etag", "owner")
        if png is None or etag is None or (owner and uploads.is_revoked(self.redis, owner.decode())):
            return None
        return png, etag.decode()

    def meta(self, keys: list[str]) -> dict[str, ImageMeta]:
        """Metadata of those keys that are cached; absent keys are left out."""
        with self.redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.hmget(IMAGE_PREFIX + key, *META_FIELDS)
            rows = pipe.execute()
        found = {}
        for key, (etag, activation, created_at, curve) in zip(keys, rows):
            if etag is not None and activation is not None:
                found[key] = ImageMeta(etag.decode(), float(activation), float(created_at or 0),
                                       json.loads(curve) if curve else [])
        return found

    def filmstrips(self, keys: list[str]) -> list[bytes | None]:
        with self.redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.hget(IMAGE_PREFIX + key, "filmstrip")
            return pipe.execute()

    def missing(self, keys: list[str]) -> list[str]:
        with self.redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.hexists(IMAGE_PREFIX + key, "png")
            present = pipe.execute()
        return [key for key, there in zip(keys, present) if not there]
