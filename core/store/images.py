"""The image cache: PNG bytes in Redis under their content keys.

Each image is one hash (png, etag, activation, curve, quality, created_at, owner, and the
filmstrip of snapshots its optimisation went through) with a TTL, so an evicted image loses all its fields at
once. Images live in the cache Redis (its own server with `allkeys-lru` when CACHE_REDIS_URL is
set, so a full cache evicts images and nothing else); which owners are revoked is state, read from
the state Redis.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from redis import Redis

from core.content import etag
from core.quality import ImageQuality
from core.store import keys, uploads

META_FIELDS = ("etag", "activation", "created_at", "curve", "quality")


@dataclass(frozen=True)
class ImageMeta:
    etag: str
    activation: float
    created_at: float
    curve: list[float]
    quality: ImageQuality | None = None


@dataclass(frozen=True)
class NewImage:
    """One rendered image as the worker hands it to the cache."""

    png: bytes
    activation: float
    curve: list[float]
    filmstrip: bytes
    quality: ImageQuality


class ImageStore:
    def __init__(self, cache: Redis, state: Redis, ttl: int):
        self.redis = cache
        self.state = state
        self.ttl = ttl

    def put(self, key: str, image: NewImage, model: str, fingerprint: str) -> None:
        name = keys.image(key)
        fields = {"png": image.png, "etag": etag(image.png), "activation": repr(float(image.activation)),
                  "owner": uploads.owner(model, fingerprint), "curve": json.dumps(image.curve),
                  "quality": image.quality.model_dump_json(),
                  "created_at": repr(time.time()), "filmstrip": image.filmstrip}
        with self.redis.pipeline() as pipe:
            pipe.hset(name, mapping=fields)
            pipe.expire(name, self.ttl)
            pipe.execute()

    def png(self, key: str) -> tuple[bytes, str] | None:
        """The PNG and its ETag, unless absent or rendered by a model that has since been deleted."""
        return self.pngs([key])[0]

    def _fields(self, content_keys: list[str], *fields: str) -> list[list]:
        """The fields of each key, with `owner` last, in one round trip; rows of revoked images
        (of a deleted model) are all None. Revocations are checked in one more round trip."""
        with self.redis.pipeline(transaction=False) as pipe:
            for key in content_keys:
                pipe.hmget(keys.image(key), *fields, "owner")
            rows = pipe.execute()
        owners = sorted({row[-1] for row in rows if row[-1]})
        revoked = {owner for owner, gone in zip(owners, uploads.revoked(self.state, owners)) if gone}
        return [[None] * len(fields) if row[-1] in revoked else row[:-1] for row in rows]

    def derived(self, name: str) -> bytes | None:
        return self.redis.get(keys.derived(name))

    def keep_derived(self, name: str, data: bytes) -> None:
        """Keep an image made from cached ones, as long as those are kept."""
        self.redis.set(keys.derived(name), data, ex=self.ttl)

    def pngs(self, content_keys: list[str]) -> list[tuple[bytes, str] | None]:
        """`png` for many keys at once."""
        rows = self._fields(content_keys, "png", "etag")
        return [(png, tag.decode()) if png is not None and tag is not None else None for png, tag in rows]

    def meta(self, content_keys: list[str]) -> dict[str, ImageMeta]:
        """Metadata of those keys that are cached; absent keys are left out."""
        found = {}
        rows = self._fields(content_keys, *META_FIELDS)
        for key, (tag, activation, created_at, curve, quality) in zip(content_keys, rows):
            if tag is not None and activation is not None:
                found[key] = ImageMeta(tag.decode(), float(activation), float(created_at or 0),
                                       json.loads(curve) if curve else [],
                                       ImageQuality.model_validate_json(quality) if quality else None)
        return found

    def filmstrips(self, content_keys: list[str]) -> list[bytes | None]:
        return [strip for (strip,) in self._fields(content_keys, "filmstrip")]

    def missing(self, content_keys: list[str]) -> list[str]:
        """Keys with no servable image: never rendered, evicted, or of a deleted model."""
        return [key for key, (tag,) in zip(content_keys, self._fields(content_keys, "etag")) if tag is None]
