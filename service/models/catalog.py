"""The model catalog: metadata that workers publish to Redis when they load a model.

The API validates requests against it (layers, filter counts, input shape, fingerprint) without
ever loading a model itself.
"""

from __future__ import annotations

from pydantic import BaseModel, Field
from redis import Redis

MODELS_KEY = "filterscope:models"


class LayerInfo(BaseModel):
    name: str
    type: str = Field(description="Keras layer class.")
    filters: int = Field(description="Channels (filters) the layer has; valid indices are 0..filters-1.")
    output_shape: list[int | None] = Field(description="Output shape (height, width, channels) for a reference input.")


class ModelInfo(BaseModel):
    id: str
    name: str
    fingerprint: str = Field(description="SHA-256 of the model file; part of every image key.")
    input_shape: list[int | None] = Field(description="(height, width, channels); null: any size.")
    reference_input_size: int = Field(description="Input size the layers' output shapes are given for.")
    preprocessing: dict = Field(description="How RGB pixels become model input; images are deprocessed back to RGB.")
    layers: list[LayerInfo] = Field(description="The layers that can be visualised.")

    def layer(self, name: str) -> LayerInfo | None:
        return next((layer for layer in self.layers if layer.name == name), None)


def publish(redis: Redis, info: ModelInfo) -> None:
    redis.hset(MODELS_KEY, info.id, info.model_dump_json())


def get(redis: Redis, model_id: str) -> ModelInfo | None:
    raw = redis.hget(MODELS_KEY, model_id)
    return ModelInfo.model_validate_json(raw) if raw else None


def all_models(redis: Redis) -> list[ModelInfo]:
    return sorted((ModelInfo.model_validate_json(raw) for raw in redis.hvals(MODELS_KEY)), key=lambda m: m.id)
