from __future__ import annotations

import logging
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Header, Query, Request
from fastapi.responses import JSONResponse, Response

from core.content import etag, is_key
from core.errors import (KeyRequired, ModelNotReady, ModelUnavailable, NotFound, StaleModel, TooCostly,
                         TooMuchWork)
from core.store.records import VisualizationRecord
from service import webhooks
from service.access import client_of
from service.caching import DERIVED, cached_response, not_modified
from service.dependencies import ClientDep, ImageStoreDep, JsonBody, MetricsDep, RedisDep, SettingsDep
from service.images.animation import frame_count
from service.models.catalog import renderable_model
from service.problems import responses
from service.visualizations import listing, montages
from service.visualizations.schemas import Visualization, VisualizationRequest
from service.visualizations.service import Visualizations
from service.visualizations.validation import build_record

router = APIRouter(prefix="/v1/visualizations", tags=["visualizations"])
log = logging.getLogger("filterscope.api")


def get_visualizations(redis: RedisDep, settings: SettingsDep, images: ImageStoreDep) -> Visualizations:
    return Visualizations(redis, settings, images)


VisualizationsDep = Annotated[Visualizations, Depends(get_visualizations)]


def load_record(visualizations: Visualizations, visualization_id: str) -> VisualizationRecord:
    record = visualizations.load(visualization_id) if is_key(visualization_id) else None
    if record is None:
        raise NotFound(f"Visualisation {visualization_id!r}")
    return record


@router.post(
    "",
    response_model=Visualization,
    status_code=202,
    dependencies=[JsonBody],
    summary="Visualise filters of a layer",
    description="Queues the filters that are not cached yet and answers 202 with `Location` and "
    "`Retry-After`; answers 200 with the finished visualisation, creating no job, when every image "
    "is cached. Identical requests share one id and one job.",
    responses={200: {"description": "Every image was cached", "model": Visualization},
               202: {"description": "Queued; poll `Location`"},
               **responses({400: "Malformed JSON", 401: "Missing or wrong API key", 415: "Not JSON",
                            409: "Model not available or not inspected yet",
                            422: "Invalid field (`errors` names each one), or a request over the cost limit",
                            429: "Over the rate limit, or too much work queued; see `Retry-After`"})},
)
def create_visualization(
    request: Annotated[VisualizationRequest, Body()],
    visualizations: VisualizationsDep,
    redis: RedisDep,
    settings: SettingsDep,
    client: ClientDep,
    metrics: MetricsDep,
) -> JSONResponse:
    if request.callback_url is not None:
        webhooks.check_callback(request.callback_url, settings)
    model = renderable_model(redis, settings, request.model)
    record = build_record(request, model, settings.default_precision)
    cached = visualizations.cached(record)
    visualizations.admit(record, cached, client)
    record = visualizations.save(record)
    queued = visualizations.ensure_rendered(record, cached, client)
    if request.callback_url is not None:  # called when it ends, also when it already has
        webhooks.subscribe(redis, record.id, request.callback_url, settings.record_ttl)
    metrics.cache.labels("miss" if queued else "hit").inc()
    log.info("visualisation %s: %s (%s %s, %d images)", record.id, "queued" if queued else "cached", record.model,
             record.layer, len(record.images))
    if not queued and len(cached) < len(record.images):
        cached = visualizations.cached(record)  # they landed while it looked: describe them all
    resource = visualizations.describe(record, cached).model_dump(mode="json")
    return queued_or_done(resource, f"/v1/visualizations/{record.id}", queued, settings.retry_after)


def queued_or_done(resource: dict, location: str, queued: bool, retry_after: int) -> JSONResponse:
    """202 with where to poll while work is on its way; 200 naming the resource when all was cached."""
    if not queued:
        return JSONResponse(resource, status_code=200, headers={"Content-Location": location})
    return JSONResponse(resource, status_code=202, headers={"Location": location, "Retry-After": str(retry_after)})


@router.get("", response_model=listing.VisualizationPage, summary="Visualisations, most recently requested first",
            description="Filter by `model`, `layer` and `status`; page with `cursor` (from `next_cursor`).",
            responses=responses({422: "Invalid field"}))
def list_visualizations(
    visualizations: VisualizationsDep,
    model: Annotated[str | None, Query(max_length=128)] = None,
    layer: Annotated[str | None, Query(max_length=256)] = None,
    status: Annotated[Literal["queued", "running", "finished", "failed", "cancelled", "expired"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> listing.VisualizationPage:
    return listing.page(visualizations, model, layer, status, limit, cursor)


@router.delete("/{visualization_id}", response_model=Visualization, summary="Cancel a queued or running visualisation",
               description="Stops its job (a running one within a step or so); images finished before stay cached "
               "and listed. The visualisation then reads `cancelled`; POST it again to render the rest.",
               responses=responses({401: "Missing or wrong API key", 404: "Unknown visualisation"}))
def cancel_visualization(visualization_id: str, visualizations: VisualizationsDep) -> Visualization:
    record = load_record(visualizations, visualization_id)
    visualizations.cancel(record)
    return visualizations.describe(record, visualizations.cached(record))


@router.get("/{visualization_id}", response_model=Visualization, summary="Status, progress and images",
            responses=responses({404: "Unknown visualisation"}))
def get_visualization(visualization_id: str, visualizations: VisualizationsDep, settings: SettingsDep,
                      request: Request, response: Response) -> Visualization:
    record = load_record(visualizations, visualization_id)
    # Images evicted from the cache since they were rendered are queued again, counted against the
    # poller (who needs a key when keys are configured); a failed job stays failed until a new POST.
    cached = visualizations.cached(record)
    poller = client_of(settings, request.headers, request.client.host if request.client else "unknown")
    refusal = None
    try:
        if visualizations.ensure_rendered(record, cached, poller, retry_failed=False):
            response.headers["Retry-After"] = str(settings.retry_after)
        elif len(cached) < len(record.images):
            cached = visualizations.cached(record)  # they landed while it looked: describe them all
    except (KeyRequired, TooCostly, TooMuchWork, ModelNotReady, ModelUnavailable, StaleModel) as refused:
        refusal = refused
        if refused.retry_after:
            response.headers["Retry-After"] = str(refused.retry_after)
    return visualizations.describe(record, cached, refusal)


@router.get(
    "/{visualization_id}/grid.png",
    summary="All images of a finished visualisation as one labelled montage",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}},
               **responses({404: "Unknown visualisation", 409: "Not finished yet",
                            503: "Being built for another request; see `Retry-After`"})},
)
def get_grid(visualization_id: str, visualizations: VisualizationsDep,
             if_none_match: str | None = Header(None)) -> Response:
    record = load_record(visualizations, visualization_id)
    tag = etag("".join(montages.finished_etags(visualizations.images, record)).encode())
    if current := not_modified(tag, if_none_match, DERIVED):
        return current
    grid = montages.kept_or_built(visualizations.images, visualizations.redis, "grid:" + tag.strip('"'),
                                  lambda: montages.grid(visualizations.images, record))
    return cached_response(grid, "image/png", tag, DERIVED)


@router.get(
    "/{visualization_id}/progress.webp",
    summary="Animation of the optimisation of every image, from snapshots taken while it ran",
    response_class=Response,
    responses={200: {"content": {"image/webp": {}}},
               **responses({404: "Unknown visualisation", 409: "Not finished yet",
                            503: "Being built for another request; see `Retry-After`"})},
)
def get_progress_animation(visualization_id: str, visualizations: VisualizationsDep,
                           if_none_match: str | None = Header(None)) -> Response:
    record = load_record(visualizations, visualization_id)
    tag = etag(("progress:" + "".join(montages.finished_etags(visualizations.images, record))).encode())
    if current := not_modified(tag, if_none_match, DERIVED):
        return current
    animation = montages.kept_or_built(visualizations.images, visualizations.redis, "progress:" + tag.strip('"'),
                                       lambda: montages.progress_animation(visualizations.images, record))
    return cached_response(animation, "image/webp", tag, DERIVED, {"X-Frame-Count": str(frame_count(animation))})
