from __future__ import annotations

import hashlib
import re
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Header
from fastapi.responses import JSONResponse, Response

from service.dependencies import JsonBody, RedisDep, SettingsDep
from service.images.animation import animate
from service.images.grid import montage
from service.images.router import etag_matches, png_response
from service.models import catalog
from service.models.catalog import ModelInfo
from service.models.inspection import request_inspection
from service.problems import Problem, invalid, not_found
from service.visualizations.jobs import VisualizationRecord, Visualizations, build_record
from service.visualizations.keys import KEY_PATTERN
from service.visualizations.schemas import ImageTarget, Visualization, VisualizationRequest

router = APIRouter(prefix="/v1/visualizations", tags=["visualizations"])

PROBLEM = {"content": {"application/problem+json": {}}}
DERIVED_CACHE = "public, max-age=86400"  # montages of immutable images; the id names their content


def get_visualizations(redis: RedisDep, settings: SettingsDep) -> Visualizations:
    return Visualizations(redis, settings)


VisualizationsDep = Annotated[Visualizations, Depends(get_visualizations)]


def require_ready(model: ModelInfo, redis, settings) -> None:
    """409 for a model that exists but cannot be rendered yet, saying what will make it ready."""
    if model.status == "inspecting":
        if model.source == "standard":
            request_inspection(redis, settings, model.id)
        raise Problem(409, "model-not-ready", f"Model {model.id!r} is being loaded and inspected by a worker; "
                      "retry shortly.", "Model not ready", headers={"Retry-After": str(settings.retry_after)})
    if not model.available:
        raise Problem(409, "model-unavailable", f"Model {model.id!r} is not available: {model.detail}",
                      "Model unavailable")


def load_record(visualizations: Visualizations, visualization_id: str) -> VisualizationRecord:
    record = visualizations.load(visualization_id) if re.fullmatch(KEY_PATTERN, visualization_id) else None
    if record is None:
        raise not_found(f"Visualisation {visualization_id!r}")
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
               400: {"description": "Malformed JSON", **PROBLEM}, 415: {"description": "Not JSON", **PROBLEM},
               409: {"description": "Model not available or not inspected yet", **PROBLEM},
               422: {"description": "Invalid field; `errors` names each one", **PROBLEM}},
)
def create_visualization(
    request: Annotated[VisualizationRequest, Body()],
    visualizations: VisualizationsDep,
    redis: RedisDep,
    settings: SettingsDep,
) -> JSONResponse:
    model = catalog.get(redis, request.model, settings.effective_weights_dir)
    if model is None:
        known = ", ".join(m.id for m in catalog.all_models(redis, settings.effective_weights_dir))
        raise invalid("model", f"unknown model {request.model!r}; known models: {known}")
    require_ready(model, redis, settings)
    record = visualizations.save(build_record(request, model))
    queued = visualizations.ensure_rendered(record)
    resource = visualizations.describe(record)
    location = f"/v1/visualizations/{record.id}"
    if not queued:
        return JSONResponse(resource.model_dump(mode="json"), status_code=200, headers={"Content-Location": location})
    headers = {"Location": location, "Retry-After": str(settings.retry_after)}
    return JSONResponse(resource.model_dump(mode="json"), status_code=202, headers=headers)


@router.get("/{visualization_id}", response_model=Visualization, summary="Status, progress and images",
            responses={404: {"description": "Unknown visualisation", **PROBLEM}})
def get_visualization(visualization_id: str, visualizations: VisualizationsDep, settings: SettingsDep,
                      response: Response) -> Visualization:
    record = load_record(visualizations, visualization_id)
    # Images evicted from the cache since they were rendered are queued again; a failed job
    # stays failed until the client POSTs again.
    if visualizations.ensure_rendered(record, retry_failed=False):
        response.headers["Retry-After"] = str(settings.retry_after)
    return visualizations.describe(record)


def label(target: ImageTarget, diversity: int) -> str:
    name = "layer" if target.filter is None else f"#{target.filter}"
    return f"{name}.{target.index}" if diversity > 1 else name


def require_finished(record: VisualizationRecord, found: list) -> None:
    if any(item is None for item in found):
        raise Problem(409, "not-finished", f"Visualisation {record.id} is not finished; poll it until its status is "
                      "'finished'.", "Not finished")


@router.get(
    "/{visualization_id}/grid.png",
    summary="All images of a finished visualisation as one labelled montage",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}, 404: {"description": "Unknown visualisation", **PROBLEM},
               409: {"description": "Not finished yet", **PROBLEM}},
)
def get_grid(visualization_id: str, visualizations: VisualizationsDep,
             if_none_match: str | None = Header(None)) -> Response:
    record = load_record(visualizations, visualization_id)
    pngs = [visualizations.images.png(t.key) for t in record.images]
    require_finished(record, pngs)
    etag = combined_etag([found[1] for found in pngs])
    if etag_matches(if_none_match, etag):
        return png_response(b"", etag, if_none_match, DERIVED_CACHE)
    grid = montage([(label(t, record.params.diversity), found[0]) for t, found in zip(record.images, pngs)])
    return png_response(grid, etag, if_none_match, DERIVED_CACHE)


@router.get(
    "/{visualization_id}/progress.webp",
    summary="Animation of the optimisation of every image, from snapshots taken while it ran",
    response_class=Response,
    responses={200: {"content": {"image/webp": {}}}, 404: {"description": "Unknown visualisation", **PROBLEM},
               409: {"description": "Not finished yet", **PROBLEM}},
)
def get_progress_animation(visualization_id: str, visualizations: VisualizationsDep,
                           if_none_match: str | None = Header(None)) -> Response:
    record = load_record(visualizations, visualization_id)
    strips = visualizations.images.filmstrips([t.key for t in record.images])
    require_finished(record, strips)
    etag = combined_etag([hashlib.sha256(strip).hexdigest() for strip in strips])
    headers = {"ETag": etag, "Cache-Control": DERIVED_CACHE}
    if etag_matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    animation, frames = animate([(label(t, record.params.diversity), strip) for t, strip in zip(record.images, strips)])
    return Response(animation, media_type="image/webp", headers=headers | {"X-Frame-Count": str(frames)})


def combined_etag(parts: list[str]) -> str:
    return '"' + hashlib.sha256("".join(parts).encode()).hexdigest()[:32] + '"'
