"""Liveness of the API process and readiness of the whole service."""

from __future__ import annotations

from fastapi import APIRouter, Request
from redis.exceptions import RedisError

from core import defaults
from core.store import jobs
from service.dependencies import RedisDep
from service.problems import Problem, responses

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The API process is alive")
async def healthz() -> dict:
    # async: answered on the event loop, never queued behind handlers waiting on Redis
    return {"status": "ok"}


@router.get("/readyz", summary="Both Redis servers are reachable and at least one worker is alive",
            responses=responses({503: "Not ready; `detail` says why"}))
def readyz(redis: RedisDep, request: Request) -> dict:
    try:
        redis.ping()
        workers = jobs.live_workers(redis)
    except RedisError as error:
        raise Problem(503, "not-ready", f"Redis is not reachable: {error}", "Not ready") from None
    try:
        request.app.state.cache_redis.ping()
    except RedisError as error:
        raise Problem(503, "not-ready", f"The image cache's Redis is not reachable: {error}", "Not ready") from None
    if not workers:
        raise Problem(503, "not-ready", "No worker has sent a heartbeat in the last "
                      f"{defaults.FRESH_WORKER_SECONDS} s: start one with `filterscope worker`.", "Not ready")
    return {"status": "ready", "workers": len(workers)}
