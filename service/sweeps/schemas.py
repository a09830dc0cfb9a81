"""A whole-layer sweep as clients ask for it, and the resource the API answers with."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core import defaults
from core.spec import FilledParams
from service.visualizations.schemas import Params

Status = Literal["queued", "running", "finished", "failed", "cancelled", "expired"]


class SweepRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"model": "vgg16-hed", "layers": ["block1_conv2", "block2_conv2"],
                                         "params": {"steps": 64, "image_size": 64}}]},
    )

    model: str = Field(min_length=1, max_length=128, strict=True, description="A model id from `GET /v1/models`.")
    layers: list[str] = Field(min_length=1, max_length=defaults.MAX_SWEEP_LAYERS,
                              description="Layers whose every filter is rendered.")
    params: Params = Field(default_factory=Params)

    @field_validator("layers")
    @classmethod
    def layers_are_distinct(cls, layers: list[str]) -> list[str]:
        if len(set(layers)) != len(layers):
            raise ValueError("layer names must be distinct")
        return layers


class SweepLayerStatus(BaseModel):
    layer: str
    filters: int = Field(description="Filters of the layer, all rendered.")
    status: Status
    images: int
    images_done: int = Field(description="Images in the cache now.")
    visualizations: list[str] = Field(description="Ids of the visualisations the layer was cut into, in filter "
                                      "order; each is a visualisation like any other (`/v1/visualizations/{id}`).")
    sprite_url: str | None = Field(None, description="Every filter of the layer in one sheet, once finished.")


class Sweep(BaseModel):
    id: str
    status: Status = Field(description="`finished` once every layer is; `failed`/`cancelled` if any chunk is; "
                           "`expired` when images left the cache and were not queued again (POST the sweep again "
                           "to resume: only what is missing is rendered).")
    model: str
    params: FilledParams
    images: int
    images_done: int
    layers: list[SweepLayerStatus]
    created_at: datetime
