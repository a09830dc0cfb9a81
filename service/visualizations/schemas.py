"""The visualisation request, its filled-in spec and the resource the API answers with.

`RenderSpec` is the contract between the API and the workers: the API validates and fills in a
request, the worker renders exactly what the spec says. Nothing here may import TensorFlow.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator

# Bump when a change to the engine changes the pixels it produces: it is part of every image key,
# so images rendered by an older engine are never served for a newer one.
ENGINE_VERSION = "2"

MAX_FILTERS = 256
MIN_STEPS, MAX_STEPS = 1, 4096
MIN_IMAGE_SIZE, MAX_IMAGE_SIZE = 16, 512
MAX_LEARNING_RATE = 10000.0
MAX_SEED = 2**31 - 1
MAX_DIVERSITY = 8


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


# Chosen per method because the three optimise very different parameters: Fourier coefficients
# with Adam, pixels in [0, 1] with Adam, and the Dense weights (pixels in the model's own input
# units, 0..255 minus the mean) with plain SGD as in the original method.
DEFAULT_LEARNING_RATE = {Method.fourier: 0.4, Method.pixel: 0.01, Method.seed: 500.0, Method.maco: 0.2}
# Pushing a unit down with fourier's large step saturates the sigmoid, which then has no gradient
# left: `negative` takes a smaller one.
NEGATIVE_FOURIER_LEARNING_RATE = 0.05
DEFAULT_TRANSFORMS = {Method.fourier: True, Method.pixel: False, Method.seed: False, Method.maco: True}
DEFAULT_STEPS = 128
DEFAULT_IMAGE_SIZE = 128
DEFAULT_SEED = 0


class Params(BaseModel):
    """Hyperparameters as the client sent them; every field is optional."""

    model_config = ConfigDict(extra="forbid")

    method: Method = Field(
        Method.fourier,
        description="`fourier`: Fourier-space image with decorrelated colour and robustness transforms "
        "(default). `pixel`: pixels optimised directly. `seed`: the original Dense-layer method "
        "trained with `model.fit` and SGD. `maco`: only the Fourier phase is optimised, the magnitude "
        "spectrum is fixed to a natural-image power law, with random crops every step.",
    )
    objective: Objective = Field(
        Objective.channel,
        description="`channel`: the filter's mean activation. `neuron`: the unit at the centre of its "
        "feature map. `negative`: minimise the filter's mean activation. `layer`: DeepDream, the mean "
        "squared activation of the whole layer (omit `filters`). `logit`: a class's pre-softmax value "
        "on a Dense layer.",
    )
    precision: Literal["float32", "bfloat16"] = Field(
        "float32",
        description="Arithmetic of the model's layers. `bfloat16` runs about twice as fast where the "
        "hardware has it (AVX512-BF16 CPUs, recent GPUs); objectives stay in float32.",
    )
    diversity: int = Field(1, strict=True, ge=1, le=MAX_DIVERSITY,
                           description="Distinct images per filter, pushed apart by a penalty on the "
                           "similarity of their feature statistics (Gram matrices).")
    steps: int = Field(DEFAULT_STEPS, strict=True, ge=MIN_STEPS, le=MAX_STEPS, description="Optimisation steps.")
    image_size: int = Field(
        DEFAULT_IMAGE_SIZE, strict=True, ge=MIN_IMAGE_SIZE, le=MAX_IMAGE_SIZE, description="Width and height in pixels."
    )
    learning_rate: float | None = Field(
        None, strict=True,
        gt=0,
        le=MAX_LEARNING_RATE,
        description="Step size; default per method: fourier 0.4 (0.05 for objective `negative`), pixel 0.01, "
        "seed 500, maco 0.2.",
    )
    seed: int = Field(DEFAULT_SEED, strict=True, ge=0, le=MAX_SEED, description="Same request and seed give the same image.")
    transforms: bool | None = Field(
        None, strict=True,
        description="Robustness transforms (pad, jitter, scale, rotate); default on for fourier, off otherwise.",
    )

    @field_validator("learning_rate", mode="before")
    @classmethod
    def accept_integral_learning_rate(cls, value: object) -> object:
        # Strict floats refuse `1`, yet a JSON client cannot tell 1 from 1.0.
        if isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        return value

    def default_learning_rate(self) -> float:
        if self.method is Method.fourier and self.objective is Objective.negative:
            return NEGATIVE_FOURIER_LEARNING_RATE
        return DEFAULT_LEARNING_RATE[self.method]

    def filled(self) -> FilledParams:
        return FilledParams(
            method=self.method,
            objective=self.objective,
            diversity=self.diversity,
            precision=self.precision,
            steps=self.steps,
            image_size=self.image_size,
            learning_rate=self.learning_rate or self.default_learning_rate(),
            seed=self.seed,
            transforms=DEFAULT_TRANSFORMS[self.method] if self.transforms is None else self.transforms,
        )


class FilledParams(BaseModel):
    """Params with every default filled in: what the engine runs and what keys are made of."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: Method
    objective: Objective
    diversity: int
    precision: Literal["float32", "bfloat16"]
    steps: int
    image_size: int
    learning_rate: float
    seed: int
    transforms: bool


class VisualizationRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "model": "vgg16-hed",
                    "layer": "block3_conv1",
                    "filters": [0, 1, 2, 3],
                    "params": {"steps": 128, "image_size": 96},
                }
            ]
        },
    )

    model: str = Field(min_length=1, max_length=128, strict=True, description="A model id from `GET /v1/models`.")
    layer: str = Field(min_length=1, max_length=256, strict=True, description="A layer name of that model.")
    filters: list[StrictInt] | None = Field(
        None, max_length=MAX_FILTERS,
        description=f"1 to {MAX_FILTERS} distinct channel (or class) indices; omitted for objective `layer`.",
    )
    params: Params = Field(default_factory=Params)

    @field_validator("filters")
    @classmethod
    def filters_are_distinct_and_non_negative(cls, filters: list[int] | None) -> list[int] | None:
        if filters is None:
            return None
        if any(f < 0 for f in filters):
            raise ValueError("filter indices must be non-negative")
        if len(set(filters)) != len(filters):
            raise ValueError("filter indices must be distinct")
        return filters


class RenderSpec(BaseModel):
    """What one job renders: one image per filter, each under its content key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str
    fingerprint: str
    layer: str
    params: FilledParams
    engine: str = ENGINE_VERSION
    images: list[ImageTarget]


class ImageTarget(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    filter: int | None = Field(description="Unit index; null for objective `layer`.")
    index: int = Field(0, description="Which of the `diversity` images of this filter.")
    key: str


RenderSpec.model_rebuild()


class Progress(BaseModel):
    step: int = Field(description="Optimisation steps done, over all batches of the job.")
    steps: int = Field(description="Optimisation steps the job needs in all.")


class ImageEntry(BaseModel):
    filter: int | None
    index: int
    url: str
    activation: float = Field(description="The objective's quantity on the final 8-bit image: the filter's mean "
                              "activation (`channel`, `negative`), its centre unit (`neuron`), the layer's mean "
                              "squared activation (`layer`) or the logit (`logit`).")
    curve: list[float] = Field(description="The objective's quantity over the steps, sampled evenly.")


class Visualization(BaseModel):
    id: str
    status: Literal["queued", "running", "finished", "failed"]
    model: str
    layer: str
    filters: list[int | None]
    params: FilledParams
    progress: Progress
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    images: list[ImageEntry] = Field(default_factory=list)
    grid_url: str | None = None
    progress_url: str | None = Field(None, description="Animation of the optimisation (WebP), once finished.")
    error: dict | None = Field(None, description="A problem object, when the visualisation failed.")
