"""The model catalog as the API shows it: what workers published about the models they loaded,
and what the standard catalog and uploads say about the rest.

The API validates requests against it (layers, filter counts, input shape, fingerprint) without
ever loading a model itself.
"""

from __future__ import annotations

from pathlib import Path

from redis import Redis

from core.errors import InvalidRequest, ModelNotReady, ModelUnavailable
from core.models import ModelInfo
from core.settings import Settings
from core.standard import STANDARD_MODELS, weights_dirs
from core.store import catalog, uploads, weights
from service.models.inspection import follow_inspection, request_inspection


def standard_entry(redis: Redis, model_id: str, weights_dir: Path) -> ModelInfo | None:
    """A standard model no worker has inspected yet: missing its weights, about to be inspected, or
    with a weights file that failed to load."""
    model = STANDARD_MODELS.get(model_id)
    if model is None:
        return None
    dirs = [str(d) for d in weights_dirs(weights_dir)]
    found = weights.locate(redis, model, weights_dir)
    broken = catalog.failure(redis, model_id, found.stamp) if found else None
    if found is None:
        status, detail = "missing-weights", (
            f"Add {model.weights_file} for every worker (PUT /v1/models/{model.id}/weights, or `filterscope weights "
            f"add FILE`), or place it in {dirs[0]} (or {dirs[1]}) of every machine; it is never downloaded.")
    elif broken:
        status, detail = "rejected", (f"{found.where} could not be loaded ({broken}); replace it with the file "
                                      "Keras saves.")
    else:
        status, detail = "inspecting", None
    return ModelInfo(
        id=model.id, name=model.name, source="standard", available=found is not None and not broken,
        status=status, detail=detail,
        input_shape=[model.input_size, model.input_size, 3], reference_input_size=model.input_size,
        preprocessing=model.preprocessing_spec(), weights_file=model.weights_file, weights_dirs=dirs,
    )


def upload_entry(redis: Redis, model_id: str, info: ModelInfo | None) -> ModelInfo | None:
    """An upload as the catalog shows it: published once a worker inspected this very file."""
    record = uploads.get(redis, model_id)
    if record is None:
        return None
    if info is not None and record.fingerprint and info.fingerprint == record.fingerprint and record.status == "ready":
        return info
    return ModelInfo(id=record.id, name=record.name, source="upload", available=False,
                     status="rejected" if record.status == "rejected" else "inspecting", detail=record.detail,
                     fingerprint=record.fingerprint, preprocessing=record.preprocessing)


def get(redis: Redis, model_id: str, weights_dir: Path) -> ModelInfo | None:
    info = catalog.published(redis, model_id)
    if (info is not None and info.source == "upload") or uploads.exists(redis, model_id):
        return upload_entry(redis, model_id, info)
    if info is not None and info.source == "standard":
        present = weights.locate(redis, STANDARD_MODELS[model_id], weights_dir) is not None
        return info if info.available and present else standard_entry(
            redis, model_id, weights_dir)
    return info or standard_entry(redis, model_id, weights_dir)


def all_models(redis: Redis, weights_dir: Path) -> list[ModelInfo]:
    ids = catalog.published_ids(redis) | set(STANDARD_MODELS) | uploads.ids(redis)
    return sorted((info for model_id in ids if (info := get(redis, model_id, weights_dir))), key=lambda m: m.id)


def inspect_if_due(redis: Redis, settings: Settings, info: ModelInfo) -> None:
    """A standard model whose weights are present but which no worker has inspected: ask one to.
    An upload being inspected: see that its inspection goes on."""
    if info.status == "inspecting" and info.source == "standard":
        request_inspection(redis, settings, info.id)
    elif info.status == "inspecting" and info.source == "upload" and (record := uploads.get(redis, info.id)):
        follow_inspection(redis, settings, info.id, record.file_sha256)


def renderable_model(redis: Redis, settings: Settings, model_id: str) -> ModelInfo:
    """The model a visualisation asks for, or why it cannot be rendered now."""
    model = get(redis, model_id, settings.effective_weights_dir)
    if model is None:
        known = ", ".join(m.id for m in all_models(redis, settings.effective_weights_dir))
        raise InvalidRequest("model", f"unknown model {model_id!r}; known models: {known}")
    inspect_if_due(redis, settings, model)
    if model.status == "inspecting":
        raise ModelNotReady(f"Model {model.id!r} is being loaded and inspected by a worker; retry shortly.",
                            retry_after=settings.retry_after)
    if not model.available:
        raise ModelUnavailable(f"Model {model.id!r} is not available: {model.detail}")
    return model
