from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Header
from fastapi.responses import JSONResponse, Response

from core.content import etag, is_key
from core.errors import NotFinished, NotFound
from core.store import sweeps as stored_sweeps
from core.store.sweeps import SweepRecord
from service.caching import DERIVED, cached_response, not_modified
from service.dependencies import ClientDep, JsonBody, RedisDep, SettingsDep
from service.models.catalog import renderable_model
from service.problems import responses
from service.sweeps.schemas import Sweep, SweepRequest
from service.sweeps.service import Sweeps
from service.visualizations import montages
from service.visualizations.router import VisualizationsDep, queued_or_done

router = APIRouter(prefix="/v1/sweeps", tags=["sweeps"])


def get_sweeps(visualizations: VisualizationsDep) -> Sweeps:
    return Sweeps(visualizations)


SweepsDep = Annotated[Sweeps, Depends(get_sweeps)]


def load_sweep(sweeps: Sweeps, sweep_id: str) -> SweepRecord:
    record = stored_sweeps.load(sweeps.redis, sweep_id) if is_key(sweep_id) else None
    if record is None:
        raise NotFound(f"Sweep {sweep_id!r}")
    return record


@router.post(
    "",
    response_model=Sweep,
    status_code=202,
    dependencies=[JsonBody],
    summary="Render every filter of one or more layers",
    description="Each layer is cut into visualisations within the request limits (at most 256 filters and "
    "`FILTERSCOPE_MAX_REQUEST_COST` each); what is cached is not rendered again, and posting the same sweep "
    "again resumes it. Answers 200 when everything is cached. When a layer is finished its `sprite_url` "
    "serves every filter in one sheet.",
    responses={200: {"description": "Everything was cached", "model": Sweep},
               202: {"description": "Queued; poll `Location`"},
               **responses({400: "Malformed JSON", 401: "Missing or wrong API key", 409: "Model not available",
                            415: "Not JSON", 422: "Invalid field, or one filter over the cost limit",
                            429: "Over the rate limit, or too much work queued; see `Retry-After`"})},
)
def create_sweep(request: Annotated[SweepRequest, Body()], sweeps: SweepsDep, redis: RedisDep, settings: SettingsDep,
                 client: ClientDep) -> JSONResponse:
    model = renderable_model(redis, settings, request.model)
    record, chunks = sweeps.plan(request, model)
    record, queued = sweeps.start(record, chunks, client)
    resource = sweeps.describe(record).model_dump(mode="json")
    return queued_or_done(resource, f"/v1/sweeps/{record.id}", queued, settings.retry_after)


@router.get("/{sweep_id}", response_model=Sweep, summary="Status and progress of every layer",
            responses=responses({404: "Unknown sweep"}))
def get_sweep(sweep_id: str, sweeps: SweepsDep) -> Sweep:
    return sweeps.describe(load_sweep(sweeps, sweep_id))


@router.delete("/{sweep_id}", response_model=Sweep, summary="Cancel what of a sweep is queued or running",
               description="Images finished before stay cached; POST the sweep again to resume it.",
               responses=responses({401: "Missing or wrong API key", 404: "Unknown sweep"}))
def cancel_sweep(sweep_id: str, sweeps: SweepsDep) -> Sweep:
    record = load_sweep(sweeps, sweep_id)
    sweeps.cancel(record)
    return sweeps.describe(record)


@router.get(
    "/{sweep_id}/layers/{layer}/sprite.png",
    summary="Every filter of a finished layer in one labelled sheet",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}},
               **responses({404: "Unknown sweep or layer", 409: "Layer not finished yet",
                            503: "Being built for another request; see `Retry-After`"})},
)
def get_sprite(sweep_id: str, layer: str, sweeps: SweepsDep, if_none_match: str | None = Header(None)) -> Response:
    record = load_sweep(sweeps, sweep_id)
    part = record.layer(layer)
    if part is None:
        raise NotFound(f"Layer {layer!r} of sweep {sweep_id!r}")
    whole = sweeps.layer_record(record, part)
    if whole is None:
        raise NotFinished(f"Layer {layer!r} of sweep {sweep_id} lost its records; POST the sweep again.")
    images = sweeps.visualizations.images
    tag = etag(("sprite:" + "".join(montages.finished_etags(images, whole))).encode())
    if current := not_modified(tag, if_none_match, DERIVED):
        return current
    sheet = montages.kept_or_built(images, sweeps.redis, "sprite:" + tag.strip('"'),
                                   lambda: montages.grid(images, whole))
    return cached_response(sheet, "image/png", tag, DERIVED)
