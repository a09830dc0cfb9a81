"""An image URL that always ends in its picture: served when cached, otherwise queued and then
either held until it exists (`wait`) or answered at once with a placeholder and `Retry-After`.

Used by the per-unit URL and by content URLs whose image left the cache. Waiting is asynchronous:
a held request costs no thread, only a look at the cache every IMAGE_WAIT_POLL seconds.
"""

from __future__ import annotations

import asyncio
import io
import time
from functools import lru_cache

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from PIL import Image, ImageDraw

from core import defaults
from core.store import jobs
from core.store.jobs import ENDED_BADLY
from core.store.records import VisualizationRecord
from service.caching import cached_response, not_modified
from service.images.fastpath import Cached
from service.problems import PROBLEM_JSON, job_problem
from service.visualizations.service import Visualizations, failure_of

NO_STORE = "no-store"  # a placeholder or a problem: never kept by a browser or a proxy
STATUS_EVERY = 1.0  # seconds between looks at the job while waiting (a failure ends the wait)


@lru_cache(maxsize=1)
def placeholder_png() -> bytes:
    """A small grey tile with an hourglass: the image is on its way."""
    tile = Image.new("RGB", (64, 64), (205, 205, 200))
    draw = ImageDraw.Draw(tile)
    draw.polygon([(22, 18), (42, 18), (32, 32)], fill=(150, 150, 145))
    draw.polygon([(32, 32), (22, 46), (42, 46)], fill=(150, 150, 145))
    out = io.BytesIO()
    tile.save(out, format="PNG")
    return out.getvalue()


def requested_wait(request: Request, wait: float | None, browser_default: float) -> float:
    """The seconds to hold: as asked, else the browser default for an <img> load (which cannot poll)."""
    if wait is not None:
        return min(wait, defaults.MAX_IMAGE_WAIT)
    return browser_default if request.headers.get("sec-fetch-dest") == "image" else 0.0


async def image_or_placeholder(request: Request, visualizations: Visualizations, record: VisualizationRecord,
                               key: str, client: str | None, wait: float, cache_control: str) -> Response:
    found = await request.app.state.image_cache.get(key)
    if found is None:
        cached = await run_in_threadpool(visualizations.cached, record)
        await run_in_threadpool(visualizations.ensure_rendered, record, cached, client)
        found = await held_until_rendered(request, visualizations, record, key, wait)
    if isinstance(found, Response):
        return found
    if found is None:
        return Response(placeholder_png(), status_code=202, media_type="image/png", headers={
            "Cache-Control": NO_STORE, "Retry-After": str(visualizations.settings.retry_after),
            "Location": f"/v1/visualizations/{record.id}"})
    headers = {"Content-Location": f"/v1/images/{key}.png"}
    current = not_modified(found.etag, request.headers.get("if-none-match"), cache_control)
    if current is not None:
        current.headers.update(headers)
        return current
    return cached_response(found.png, "image/png", found.etag, cache_control, headers)


async def held_until_rendered(request: Request, visualizations: Visualizations, record: VisualizationRecord,
                              key: str, wait: float) -> Cached | Response | None:
    """The image once it is in the cache; a problem answer if its job failed; None at the deadline."""
    deadline = time.monotonic() + wait
    next_status = time.monotonic() + STATUS_EVERY
    while True:
        found = await request.app.state.image_cache.get(key)
        if found is not None or time.monotonic() >= deadline:
            return found
        if time.monotonic() >= next_status:
            next_status = time.monotonic() + STATUS_EVERY
            failed = await run_in_threadpool(job_failure, visualizations, record.id)
            if failed is not None:
                return failed
        if await request.is_disconnected():
            return None
        await asyncio.sleep(defaults.IMAGE_WAIT_POLL)


def job_failure(visualizations: Visualizations, job_id: str) -> Response | None:
    job = jobs.fetch(visualizations.redis, job_id)
    if jobs.status_of(job) not in ENDED_BADLY:
        return None
    problem = job_problem(failure_of(job))
    return JSONResponse(problem, status_code=problem["status"], media_type=PROBLEM_JSON,
                        headers={"Cache-Control": NO_STORE})
