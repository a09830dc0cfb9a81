"""One stable URL per unit: `GET /v1/models/{model}/layers/{layer}/filters/{k}.png`, its params as
query fields, for `<img src=...>` and `curl -o`. It never breaks: whatever is not cached (never
rendered, or evicted) is queued, and the image served once it exists."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import ValidationError

from core import defaults
from core.store.records import VisualizationRecord
from service.access import client_of
from service.dependencies import SettingsDep
from service.models.catalog import renderable_model
from service.problems import responses
from service.visualizations.delivery import image_or_placeholder, requested_wait
from service.visualizations.router import VisualizationsDep
from service.visualizations.schemas import Params, VisualizationRequest
from service.visualizations.service import Visualizations
from service.visualizations.validation import build_record

router = APIRouter(prefix="/v1/models", tags=["visualizations"])

# Revalidated on every use (a 304 when unchanged): the model behind a name may be replaced.
UNIT_CACHE = "no-cache"
WAIT_DESCRIPTION = (f"Seconds to hold the request until the image exists (at most {defaults.MAX_IMAGE_WAIT}). "
                    "Without it the answer is at once: the image, or 202 with a placeholder. A browser's image "
                    "load (`Sec-Fetch-Dest: image`) is held `FILTERSCOPE_BROWSER_IMAGE_WAIT` seconds by default.")


def params_query() -> list[dict]:
    """The visualisation params as documented query fields: the same names, defaults and limits as in a POST."""
    schema = Params.model_json_schema()
    return [{"name": name, "in": "query", "required": False, "schema": field,
             "description": field.get("description", "")} for name, field in schema["properties"].items()]


def params_from(request: Request) -> Params:
    fields = {name: value for name, value in request.query_params.items() if name != "wait"}
    try:
        return Params.model_validate_strings(fields)
    except ValidationError as invalid:
        raise RequestValidationError(invalid.errors()) from None


def unit_record(visualizations: Visualizations, model: str, layer: str, unit: int, params: Params) -> VisualizationRecord:
    request = VisualizationRequest(model=model, layer=layer, filters=[unit], params=params)
    info = renderable_model(visualizations.redis, visualizations.settings, model)
    return visualizations.save(build_record(request, info, visualizations.settings.default_precision))


@router.get(
    "/{model}/layers/{layer}/filters/{unit}.png",
    summary="The picture of one unit, by a URL that never breaks",
    description="Serves the unit's image when it is cached; otherwise queues it and holds the request "
    "(`wait`) or answers 202 with a small placeholder PNG that is never cached, `Retry-After` and "
    "`Location` (the visualisation to poll). Query fields are the POST's `params`, defaults filled in.",
    response_class=Response,
    openapi_extra={"parameters": params_query()},
    responses={200: {"content": {"image/png": {}}, "description": "The image; `Content-Location` is its content URL."},
               202: {"content": {"image/png": {}}, "description": "Queued: a placeholder; retry after `Retry-After`."},
               304: {"description": "The client's copy (If-None-Match) is current."},
               **responses({401: "Not cached, and rendering it needs a valid X-API-Key",
                            409: "Model not available or not inspected yet",
                            422: "Invalid field (`errors` names each), or over the cost limit",
                            429: "Too much work queued; see `Retry-After`",
                            500: "Its rendering failed"})},
)
async def get_unit_image(
    request: Request,
    visualizations: VisualizationsDep,
    settings: SettingsDep,
    model: Annotated[str, Path(max_length=128)],
    layer: Annotated[str, Path(max_length=256)],
    unit: Annotated[int, Path(ge=0, description="The filter (channel or class) index.")],
    wait: Annotated[float | None, Query(ge=0, le=defaults.MAX_IMAGE_WAIT, description=WAIT_DESCRIPTION)] = None,
) -> Response:
    record = await run_in_threadpool(unit_record, visualizations, model, layer, unit, params_from(request))
    client = client_of(settings, request.headers, request.client.host if request.client else "unknown")
    return await image_or_placeholder(request, visualizations, record, record.images[0].key, client,
                                      requested_wait(request, wait, settings.browser_image_wait), UNIT_CACHE)
