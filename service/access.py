"""Who may change what, and how much: API keys checked before any body is read, a rate limit per
client, a cap on each client's queued and running work, and a cost cap per request."""

from __future__ import annotations

import hashlib
import math
import time

from anyio import to_thread
from limits import parse
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter
from redis import Redis
from redis.exceptions import RedisError
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from core.errors import RateLimited, TooCostly, TooMuchWork
from core.settings import Settings
from core.spec import FilledParams
from core.store import keys, work
from service.problems import Problem, redis_problem

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
KEY_HEADER = "x-api-key"


def client_of(settings: Settings, headers: Headers, address: str) -> str | None:
    """Whom a request counts against: a digest of its key (keys are never stored), or the address
    of an anonymous client; None when keys are configured and the request has no valid one."""
    if settings.anonymous:
        return f"anonymous:{address}"
    key = headers.get(KEY_HEADER)
    if key not in settings.api_key_set:
        return None
    return "key:" + hashlib.sha256(key.encode()).hexdigest()[:16]


class Limiter:
    def __init__(self, redis: Redis, settings: Settings):
        storage = RedisStorage("redis://", connection_pool=redis.connection_pool, key_prefix=keys.LIMITS)
        self.strategy = MovingWindowRateLimiter(storage)
        self.rate = parse(settings.rate_limit)

    def hit(self, client: str) -> None:
        if not self.strategy.hit(self.rate, client):
            reset, _ = self.strategy.get_window_stats(self.rate, client)
            raise RateLimited(f"More than {self.rate} state-changing requests; retry later.",
                              retry_after=max(1, math.ceil(reset - time.time())))


class AccessControl:
    """ASGI middleware: a state-changing request needs a valid key (when keys are configured) and
    must be within its client's rate, both checked before its body is read."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in STATE_CHANGING:
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        address = (scope.get("client") or ("unknown", 0))[0]
        client = client_of(state.settings, Headers(scope=scope), address)
        refusal = None
        if client is None:
            refusal = Problem(401, "unauthorized", "This operation needs a valid X-API-Key header.", "Unauthorized",
                              headers={"WWW-Authenticate": "X-API-Key"})
        else:
            try:
                await to_thread.run_sync(state.limiter.hit, client)
            except RateLimited as limited:
                refusal = Problem.of(limited)
            except RedisError as error:  # outside the app: its Redis handler does not see this one
                refusal = redis_problem(error)
        if refusal is not None:
            await refusal.response(scope["path"])(scope, receive, send)
            return
        scope.setdefault("state", {})["client"] = client
        await self.app(scope, receive, send)


def pixel_steps(params: FilledParams, images: int) -> int:
    """The computation `images` images ask for: images x steps x pixels."""
    return images * params.steps * params.image_size**2


def check_cost(params: FilledParams, images: int, limit: int) -> None:
    """The computation a request asks for: images to render (those not cached) x steps x pixels."""
    cost = pixel_steps(params, images)
    if cost > limit:
        raise TooCostly(f"The request asks for {cost:,} pixel-steps (images x steps x pixels); one request may ask "
                        f"for {limit:,}. Ask for fewer filters, fewer steps or smaller images, in several requests.",
                        errors=[{"field": "params", "reason": f"cost {cost:,} is over the limit of {limit:,}"}])


def check_room(redis: Redis, settings: Settings, client: str) -> None:
    if work.active(redis, client) >= settings.max_active_per_key:
        raise TooMuchWork(f"{settings.max_active_per_key} visualisations of this client are already queued or "
                          "running; retry when one has finished.", retry_after=settings.retry_after * 5)
