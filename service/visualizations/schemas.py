"""The visualisation request as clients send it, and the resource the API answers with.

Defaults, limits and descriptions come from the method and objective tables in core/methods.py.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationInfo, field_validator

from core import defaults, methods
from core.quality import ImageQuality
from core.spec import FilledParams, Method, Objective, Precision
from core.store.jobs import Progress, QueuePlace


class Params(BaseModel):
    """Hyperparameters as the client sent them; every field is optional."""

    model_config = ConfigDict(extra="forbid")

    method: Method = Field(Method.fourier, description=methods.method_descriptions())
    objective: Objective = Field(Objective.channel, description=methods.objective_descriptions())
    precision: Precision | None = Field(
        None,
        description="Arithmetic of the model's layers. `bfloat16` runs 2.5-4x faster where the hardware has "
        "it (AVX512-BF16/AMX CPUs, recent GPUs); objectives stay in float32. Default: the server's "
        "`FILTERSCOPE_DEFAULT_PRECISION` (float32 unless its operator chose otherwise), filled in and shown.",
    )
    diversity: int = Field(1, strict=True, ge=1, le=defaults.MAX_DIVERSITY,
                           description="Distinct images per filter, pushed apart by a penalty on the "
                           "similarity of their feature statistics (Gram matrices).")
    steps: int = Field(defaults.DEFAULT_STEPS, strict=True, ge=defaults.MIN_STEPS, le=defaults.MAX_STEPS,
                       description="Optimisation steps.")
    image_size: int = Field(defaults.DEFAULT_IMAGE_SIZE, strict=True, ge=defaults.MIN_IMAGE_SIZE,
                            le=defaults.MAX_IMAGE_SIZE, description="Width and height in pixels.")
    learning_rate: float | None = Field(None, strict=True, gt=0, le=defaults.MAX_LEARNING_RATE,
                                        description=methods.learning_rate_description())
    seed: int = Field(defaults.DEFAULT_SEED, strict=True, ge=0, le=defaults.MAX_SEED,
                      description="Same request and seed give the same image.")
    transforms: bool | None = Field(None, strict=True, description=methods.transforms_description())

    @field_validator("learning_rate", mode="before")
    @classmethod
    def accept_integral_learning_rate(cls, value: object, info: ValidationInfo) -> object:
        # Strict floats refuse `1`, yet a JSON client cannot tell 1 from 1.0; nor can a query string.
        if isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if info.mode == "string" and isinstance(value, str):
            with suppress(ValueError):
                return float(value)
        return value

    def filled(self, default_precision: Precision = "float32") -> FilledParams:
        return methods.fill(**self.model_dump() | {"precision": self.precision or default_precision})


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
        None, max_length=defaults.MAX_FILTERS,
        description=f"1 to {defaults.MAX_FILTERS} distinct channel (or class) indices; omitted for objective `layer`.",
    )
    params: Params = Field(default_factory=Params)
    callback_url: str | None = Field(None, max_length=2048, strict=True, description="Called (POST, signed as "
                                     "Standard Webhooks describe) when the visualisation finishes or fails; its host "
                                     "must be in the server's allow-list. Not part of the visualisation's identity.")

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


class ImageEntry(BaseModel):
    filter: int | None
    index: int
    url: str
    activation: float = Field(description="The objective's quantity on the final 8-bit image: " + "; ".join(
        f"{spec.reports} (`{objective.value}`)" for objective, spec in methods.OBJECTIVES.items()) + ".")
    curve: list[float] = Field(description="The objective's quantity over the steps, sampled evenly.")
    alive: bool | None = Field(None, description="Whether the unit fires on this image (`quality.alive`); false "
                               "for a unit the optimisation could not wake. Null for images of an older engine.")
    quality: ImageQuality | None = None


class Visualization(BaseModel):
    id: str
    status: Literal["queued", "running", "finished", "failed", "cancelled", "expired"] = Field(
        description="`cancelled`: stopped by DELETE (images finished before are listed). `expired`: images left the "
        "cache (or their model was deleted or replaced) and were not queued again; `error` says why. POST the "
        "request again to render them.")
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
    error: dict | None = Field(None, description="A problem object, when the visualisation failed or expired.")
    queue: QueuePlace | None = Field(None, description="While queued: which queue, how many jobs are ahead, and a "
                                     "rough estimate of when it starts.")
