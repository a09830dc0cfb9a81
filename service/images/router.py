from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from core import defaults
from core.content import is_key
from core.errors import ImageNotFound
from core.store import records
from service.access import client_of
from service.caching import IMMUTABLE, cached_response, not_modified
from service.dependencies import ImageStoreDep, MetricsDep, SettingsDep
from service.problems import responses
from service.visualizations.delivery import image_or_placeholder, requested_wait
from service.visualizations.router import VisualizationsDep
from service.visualizations.units import WAIT_DESCRIPTION

router = APIRouter(prefix="/v1/images", tags=["images"])


@router.get(
    "/{key}.png",
    summary="A rendered image by its content key",
    description="A content URL names its bytes and is cached for good. If its image has left the cache since, "
    "it is queued again (its spec is known) and answered as the unit URL answers: held (`wait`) or 202 with a "
    "placeholder.",
    response_class=Response,
    responses={
        200: {"content": {"image/png": {}}, "description": "The PNG; its text chunks carry the full spec."},
        202: {"content": {"image/png": {}}, "description": "Evicted and queued again: a placeholder; retry later."},
        304: {"description": "The client's copy (If-None-Match) is current."},
        **responses({401: "Evicted, and rendering it again needs a valid X-API-Key",
                     404: "Unknown key (never rendered, or its record expired)",
                     409: "Its model was deleted or replaced", 429: "Too much work queued; see `Retry-After`"}),
    },
)
async def get_image(
    request: Request,
    images: ImageStoreDep,
    metrics: MetricsDep,
    visualizations: VisualizationsDep,
    settings: SettingsDep,
    key: str = Path(description="Content key from a visualisation's `images[].url`."),
    wait: Annotated[float | None, Query(ge=0, le=defaults.MAX_IMAGE_WAIT, description=WAIT_DESCRIPTION)] = None,
    if_none_match: str | None = Header(None),
) -> Response:
    found = await run_in_threadpool(images.png, key) if is_key(key) else None
    if found is not None:
        png, etag = found
        metrics.images_served.inc()
        return not_modified(etag, if_none_match, IMMUTABLE) or cached_response(png, "image/png", etag, IMMUTABLE)
    record = await run_in_threadpool(records.holding, visualizations.redis, key) if is_key(key) else None
    if record is None:
        raise ImageNotFound(f"Image {key} is not in the cache, and no visualisation that holds it is kept: POST "
                            "its visualisation again to render it.")
    client = client_of(settings, request.headers, request.client.host if request.client else "unknown")
    return await image_or_placeholder(request, visualizations, record, key, client,
                                      requested_wait(request, wait, settings.browser_image_wait), IMMUTABLE)
