"""The model catalog: what workers published about the models they loaded, and what the
standard catalog and uploads say about the rest.

The API validates requests against it (layers, filter counts, input shape, fingerprint) without
ever loading a model itself.
"""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, Field
from redis import Redis

from service.models import uploads
from service.models.standard import STANDARD_MODELS, find_weights, weights_dirs, weights_stamp

MODELS_KEY = "filterscope:models"  # id -> ModelInfo JSON, written by workers after inspecting a model
FAILURES_KEY = "filterscope:inspection-failures"  # standard id -> {"stamp", "detail"} of a weights file that failed


class LayerInfo(BaseModel):
    name: str
    type: str = Field(description="Keras layer class.")
    filters: int = Field(description="Channels (or classes) the layer has; valid indices are 0..filters-1.")
    output_shape: list[int | None] = Field(
        description="Output shape without the batch axis, for a reference input: (height, width, channels) or (units,).")


class ModelInfo(BaseModel):
    id: str
    name: str
    source: Literal["builtin", "standard", "upload"] = "builtin"
    available: bool = Field(True, description="Whether requests for it can be rendered now.")
    status: Literal["ready", "inspecting", "missing-weights", "rejected"] = "ready"
    detail: str | None = Field(None, description="What the operator must do, when not ready.")
    fingerprint: str = Field("", description="SHA-256 of the model (or weights) file; part of every image key.")
    input_shape: list[int | None] = Field(default_factory=list, description="(height, width, channels); null: any size.")
    reference_input_size: int = Field(224, description="Input size the layers' output shapes are given for.")
    preprocessing: dict = Field(default_factory=dict,
                                description="How RGB pixels become model input; images are deprocessed back to RGB.")
    weights_file: str | None = Field(None, description="Standard models: the file name their weights must have.")
    weights_dirs: list[str] | None = Field(None, description="Standard models: where that file is looked for.")
    layers: list[LayerInfo] = Field(default_factory=list, description="The layers that can be visualised.")

    def layer(self, name: str) -> LayerInfo | None:
        return next((layer for layer in self.layers if layer.name == name), None)


def publish(redis: Redis, info: ModelInfo) -> None:
    redis.hset(MODELS_KEY, info.id, info.model_dump_json())


def unpublish(redis: Redis, model_id: str) -> None:
    redis.hdel(MODELS_KEY, model_id)


def published(redis: Redis, model_id: str) -> ModelInfo | None:
    raw = redis.hget(MODELS_KEY, model_id)
    return ModelInfo.model_validate_json(raw) if raw else None


def record_failure(redis: Redis, model_id: str, stamp: str, detail: str) -> None:
    redis.hset(FAILURES_KEY, model_id, json.dumps({"stamp": stamp, "detail": detail}))


def failure(redis: Redis, model_id: str, path) -> str | None:
    """Why this very weights file failed to load, if it did."""
    raw = redis.hget(FAILURES_KEY, model_id)
    if not raw:
        return None
    recorded = json.loads(raw)
    return recorded["detail"] if recorded["stamp"] == weights_stamp(path) else None


def standard_entry(redis: Redis, model_id: str, weights_dir) -> ModelInfo | None:
    """A standard model no worker has inspected yet: missing its weights, about to be inspected, or
    with a weights file that failed to load."""
    model = STANDARD_MODELS.get(model_id)
    if model is None:
        return None
    dirs = [str(d) for d in weights_dirs(weights_dir)]
    path = find_weights(model, weights_dir)
    broken = failure(redis, model_id, path) if path else None
    if path is None:
        status, detail = "missing-weights", f"Place {model.weights_file} in {dirs[0]} (or {dirs[1]}); it is never downloaded."
    elif broken:
        status, detail = "rejected", f"{path} could not be loaded ({broken}); replace it with the file Keras saves."
    else:
        status, detail = "inspecting", None
    return ModelInfo(
        id=model.id, name=model.name, source="standard", available=path is not None and not broken,
        status=status, detail=detail,
        input_shape=[model.input_size, model.input_size, 3], reference_input_size=model.input_size,
        preprocessing=model.preprocessing_spec(), weights_file=model.weights_file, weights_dirs=dirs,
    )


def upload_entry(redis: Redis, model_id: str, info: ModelInfo | None) -> ModelInfo | None:
    """An upload as the catalog shows it: published once a worker inspected this very file."""
    record = uploads.get(redis, model_id)
    if record is None:
        return None
    if info is not None and info.fingerprint == record.fingerprint and record.status == "ready":
        return info
    return ModelInfo(id=record.id, name=record.name, source="upload", available=False,
                     status="rejected" if record.status == "rejected" else "inspecting", detail=record.detail,
                     fingerprint=record.fingerprint, preprocessing=record.preprocessing)


def get(redis: Redis, model_id: str, weights_dir) -> ModelInfo | None:
    info = published(redis, model_id)
    if (info is not None and info.source == "upload") or redis.hexists(uploads.UPLOADS_KEY, model_id):
        return upload_entry(redis, model_id, info)
    if info is not None and info.source == "standard":
        return info if info.available and find_weights(STANDARD_MODELS[model_id], weights_dir) else standard_entry(
            redis, model_id, weights_dir)
    return info or standard_entry(redis, model_id, weights_dir)


def all_models(redis: Redis, weights_dir) -> list[ModelInfo]:
    ids = {raw_id.decode() for raw_id in redis.hkeys(MODELS_KEY)} | set(STANDARD_MODELS) | {
        raw_id.decode() for raw_id in redis.hkeys(uploads.UPLOADS_KEY)}
    return sorted((info for model_id in ids if (info := get(redis, model_id, weights_dir))), key=lambda m: m.id)
