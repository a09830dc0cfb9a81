"""From a request to a record: checked against the model's catalog entry, every default filled
in, every image named by its content key."""

from __future__ import annotations

import time

from core import content, methods
from core.errors import InvalidRequest
from core.models import LayerInfo, ModelInfo
from core.spec import ENGINE_VERSION, FilledParams, ImageTarget, Precision
from core.store.records import VisualizationRecord
from service.visualizations.schemas import VisualizationRequest


def build_record(request: VisualizationRequest, model: ModelInfo,
                 default_precision: Precision = "float32") -> VisualizationRecord:
    """Check the request against the model's metadata and fill in everything it left out."""
    layer = model.layer(request.layer)
    if layer is None:
        names = ", ".join(known.name for known in model.layers)
        raise InvalidRequest("layer", f"model {model.id!r} has no visualisable layer {request.layer!r}; valid layers: {names}")
    params = request.params.filled(default_precision)
    filters = checked_filters(request, layer, params)
    methods.check_output(params.objective, layer.name, layer.is_vector)
    methods.check_supported(params)
    check_input(params, model)
    named = (model.id, model.fingerprint, layer.name)
    images = [
        ImageTarget(filter=f, index=i, key=content.image_key(*named, f, i, params, ENGINE_VERSION))
        for f in filters
        for i in range(params.diversity)
    ]
    return VisualizationRecord(
        id=content.visualization_id(*named, filters, params, ENGINE_VERSION),
        model=model.id, fingerprint=model.fingerprint, layer=layer.name, filters=filters,
        params=params, engine=ENGINE_VERSION, images=images, created_at=time.time(),
    )


def checked_filters(request: VisualizationRequest, layer: LayerInfo, params: FilledParams) -> list[int | None]:
    """The unit indices to render; `[None]` for an objective that takes none (the whole layer)."""
    if not methods.OBJECTIVES[params.objective].takes_filters:
        if request.filters:
            raise InvalidRequest("filters", f"omit filters with objective {params.objective.value!r}: it visualises "
                                 "the whole layer")
        return [None]
    if not request.filters:
        raise InvalidRequest("filters", f"at least 1 filter index is required with objective {params.objective.value!r}")
    for position, index in enumerate(request.filters):
        if index >= layer.filters:
            raise InvalidRequest(f"filters[{position}]", f"filter {index} is out of range: layer {layer.name!r} has "
                                 f"{layer.filters} filters (0..{layer.filters - 1})")
    return list(request.filters)


def check_input(params: FilledParams, model: ModelInfo) -> None:
    """A method that feeds its pixels to the model as they are needs them to fit its input."""
    if not methods.METHODS[params.method].needs_model_input or not model.input_shape:
        return
    height, _, channels = model.input_shape
    name = params.method.value
    if channels != 3:
        raise InvalidRequest("params.method", f"the {name!r} method needs a 3-channel model; {model.id!r} takes {channels}")
    if height and params.image_size != height:
        raise InvalidRequest("params.image_size", f"the {name!r} method renders at the input size of {model.id!r}: {height}")


