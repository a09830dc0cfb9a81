"""The image cache: PNG bytes in Redis under their content keys.

Each image is one hash (png, etag, activation, curve, created_at, and the filmstrip of snapshots
its optimisation went through) with a TTL, so an evicted image loses
all its fields at once. With `maxmemory-policy volatile-lru` Redis evicts only keys with a TTL:
these, and RQ's own expiring records, never the queue or the visualisation records.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass

from redis import Redis

from service.models import uploads

IMAGE_PREFIX = "filterscope:image:"
META_FIELDS = ("etag", "activation", "created_at", "curve", "owner")


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
        if png is None or etag is None or not self.live(owner):
            return None
        return png, etag.decode()

    def meta(self, keys: list[str]) -> dict[str, ImageMeta]:
        """Metadata of those keys that are cached; absent keys are left out."""
        with self.redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.hmget(IMAGE_PREFIX + key, *META_FIELDS)
            rows = pipe.execute()
        found = {}
        for key, (etag, activation, created_at, curve, owner) in zip(keys, rows):
            if etag is not None and activation is not None and self.live(owner):
                found[key] = ImageMeta(etag.decode(), float(activation), float(created_at or 0),
                                       json.loads(curve) if curve else [])
        return found

    def filmstrips(self, keys: list[str]) -> list[bytes | None]:
        with self.redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.hmget(IMAGE_PREFIX + key, "filmstrip", "owner")
            rows = pipe.execute()
        return [strip if self.live(owner) else None for strip, owner in rows]

    def live(self, owner: bytes | None) -> bool:
        """False for an image whose model was deleted since it was rendered."""
        return not (owner and uploads.is_revoked(self.redis, owner.decode()))

    def missing(self, keys: list[str]) -> list[str]:
        """Keys with no servable image: never rendered, evicted, or of a deleted model."""
        with self.redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.hmget(IMAGE_PREFIX + key, "etag", "owner")
            rows = pipe.execute()
        return [key for key, (etag, owner) in zip(keys, rows) if etag is None or not self.live(owner)]
