"""The image cache: PNG bytes in Redis under their content keys.

Each image is one hash (png, etag, activation, curve, created_at, owner, and the filmstrip of
snapshots its optimisation went through) with a TTL, so an evicted image loses all its fields at
once. With `maxmemory-policy volatile-lru` Redis evicts only keys with a TTL: these, and RQ's own
expiring records, never the queue or the visualisation records.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from redis import Redis

from core.content import etag
from core.store import keys, uploads

META_FIELDS = ("etag", "activation", "created_at", "curve", "owner")


@dataclass(frozen=True)
class ImageMeta:
    etag: str
    activation: float
    created_at: float
    curve: list[float]


@dataclass(frozen=True)
class NewImage:
    """One rendered image as the worker hands it to the cache."""

    png: bytes
    activation: float
    curve: list[float]
    filmstrip: bytes


class ImageStore:
    def __init__(self, redis: Redis, ttl: int):
        self.redis = redis
        self.ttl = ttl

    def put(self, key: str, image: NewImage, model: str, fingerprint: str) -> None:
        name = keys.image(key)
        fields = {"png": image.png, "etag": etag(image.png), "activation": repr(float(image.activation)),
                  "owner": uploads.owner(model, fingerprint), "curve": json.dumps(image.curve),
                  "created_at": repr(time.time()), "filmstrip": image.filmstrip}
        with self.redis.pipeline() as pipe:
            pipe.hset(name, mapping=fields)
            pipe.expire(name, self.ttl)
            pipe.execute()

    def png(self, key: str) -> tuple[bytes, str] | None:
        """The PNG and its ETag, unless absent or rendered by a model that has since been deleted."""
        png, tag, owner = self.redis.hmget(keys.image(key), "png", "etag", "owner")
        if png is None or tag is None or not self.live(owner):
            return None
        return png, tag.decode()

    def _fields(self, content_keys: list[str], *fields: str) -> list[list]:
        with self.redis.pipeline(transaction=False) as pipe:
            for key in content_keys:
                pipe.hmget(keys.image(key), *fields)
            return pipe.execute()

    def pngs(self, content_keys: list[str]) -> list[tuple[bytes, str] | None]:
        """`png` for many keys, in one round trip."""
        rows = self._fields(content_keys, "png", "etag", "owner")
        return [(png, tag.decode()) if png is not None and tag is not None and self.live(owner) else None
                for png, tag, owner in rows]

    def meta(self, content_keys: list[str]) -> dict[str, ImageMeta]:
        """Metadata of those keys that are cached; absent keys are left out."""
        found = {}
        for key, (tag, activation, created_at, curve, owner) in zip(content_keys, self._fields(content_keys, *META_FIELDS)):
            if tag is not None and activation is not None and self.live(owner):
                found[key] = ImageMeta(tag.decode(), float(activation), float(created_at or 0),
                                       json.loads(curve) if curve else [])
        return found

    def filmstrips(self, content_keys: list[str]) -> list[bytes | None]:
        return [strip if self.live(owner) else None for strip, owner in self._fields(content_keys, "filmstrip", "owner")]

    def missing(self, content_keys: list[str]) -> list[str]:
        """Keys with no servable image: never rendered, evicted, or of a deleted model."""
        rows = self._fields(content_keys, "etag", "owner")
        return [key for key, (tag, owner) in zip(content_keys, rows) if tag is None or not self.live(owner)]

    def live(self, owner: bytes | None) -> bool:
        """False for an image whose model was deleted since it was rendered."""
        return not (owner and uploads.is_revoked(self.redis, owner.decode()))
