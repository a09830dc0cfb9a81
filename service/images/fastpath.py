"""Cached images served straight from ASGI, without FastAPI's routing, and from memory.

An image URL names its bytes (content-addressed), so a copy kept in this process never goes stale;
the only thing that can change is whether its model was deleted since. That is checked against
the revoked owners, re-read from Redis at most every REVOCATIONS_MAX_AGE seconds (at once after
this process revokes one). Everything else (misses, bad keys, HEAD) goes on to the app.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from dataclasses import dataclass

from redis.asyncio import Redis as AsyncRedis
from redis.exceptions import RedisError
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from core.store import keys
from service.caching import IMMUTABLE, etag_matches
from service.problems import redis_problem

IMAGE_PATH = re.compile(r"^/v1/images/([0-9a-f]{32})\.png$")
REVOCATIONS_MAX_AGE = 0.5  # seconds another replica may go on serving an image of a deleted model


@dataclass(frozen=True)
class Cached:
    png: bytes
    etag: str
    owner: str


class ImageCache:
    """Recently served images, least recently used out first beyond `max_bytes`."""

    def __init__(self, cache: AsyncRedis, state: AsyncRedis, max_bytes: int):
        self.redis, self.state, self.max_bytes = cache, state, max_bytes
        self.images: OrderedDict[str, Cached] = OrderedDict()
        self.size = 0
        self.revoked: set[str] = set()
        self.revoked_at = float("-inf")

    async def get(self, key: str) -> Cached | None:
        found = self.images.get(key)
        if found is None:
            png, etag, owner = await self.redis.hmget(keys.image(key), "png", "etag", "owner")
            if png is None or etag is None:
                return None
            found = Cached(png, etag.decode(), (owner or b"").decode())
            self.keep(key, found)
        elif key in self.images:
            self.images.move_to_end(key)
        if found.owner and found.owner in await self.revoked_owners():
            return None
        return found

    def keep(self, key: str, image: Cached) -> None:
        if len(image.png) > self.max_bytes or key in self.images:
            return
        self.images[key] = image
        self.size += len(image.png)
        while self.size > self.max_bytes:
            _, dropped = self.images.popitem(last=False)
            self.size -= len(dropped.png)

    async def revoked_owners(self) -> set[str]:
        if time.monotonic() - self.revoked_at > REVOCATIONS_MAX_AGE:
            self.revoked = {owner.decode() for owner in await self.state.smembers(keys.REVOKED_MODELS)}
            self.revoked_at = time.monotonic()
        return self.revoked

    def clear(self) -> None:
        self.images.clear()
        self.size = 0
        self.revocations_changed()

    def revocations_changed(self) -> None:
        """This process revoked an owner: look again before serving anything."""
        self.revoked_at = float("-inf")


class ImageFastPath:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = IMAGE_PATH.match(scope["path"]) if scope["type"] == "http" and scope["method"] == "GET" else None
        state = scope["app"].state if match else None
        try:
            image = await state.image_cache.get(match.group(1)) if match else None
        except RedisError as error:  # outside the app: its Redis handler does not see this one
            await redis_problem(error).response(scope["path"])(scope, receive, send)
            return
        if image is None:  # not an image, not cached, or revoked: the app answers, with its problems
            await self.app(scope, receive, send)
            return
        state.metrics.images_served.inc()
        headers = [(b"etag", image.etag.encode()), (b"cache-control", IMMUTABLE.encode())]
        if etag_matches(Headers(scope=scope).get("if-none-match"), image.etag):
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        headers += [(b"content-type", b"image/png"), (b"content-length", str(len(image.png)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": image.png})
