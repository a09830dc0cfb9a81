"""The render contract between the API and the workers.

The API validates a request and fills in every default; the worker renders exactly what the
`RenderSpec` says. Nothing here may import TensorFlow, Redis or HTTP.
"""

from __future__ import annotations

from enum import Enum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# Bump when a change to the engine changes the pixels it produces: it is part of every image key,
# so images rendered by an older engine are never served for a newer one.
ENGINE_VERSION = "5"

Precision = Literal["float32", "bfloat16"]


class Method(str, Enum):
    fourier = "fourier"
    pixel = "pixel"
    seed = "seed"
    maco = "maco"


class Objective(str, Enum):
    channel = "channel"
    neuron = "neuron"
    negative = "negative"
    layer = "layer"
    logit = "logit"


class FilledParams(BaseModel):
    """Params with every default filled in: what the engine runs and what keys are made of."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: Method
    objective: Objective
    diversity: int
    precision: Precision
    steps: int
    image_size: int
    learning_rate: float
    seed: int
    transforms: bool


class ImageTarget(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    filter: int | None = Field(description="Unit index; null for objective `layer`.")
    index: int = Field(0, description="Which of the `diversity` images of this filter.")
    key: str


class RenderSpec(BaseModel):
    """What one job renders: one image per target, each under its content key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str
    fingerprint: str
    layer: str
    params: FilledParams
    engine: str = ENGINE_VERSION
    images: list[ImageTarget]
