"""What the catalog says about a model: its layers, input and preprocessing, as workers publish it
and the API validates requests against it without loading the model."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

VGG16_HED = "vgg16-hed"
BUILTIN_IDS = frozenset({VGG16_HED})  # models that ship with Filterscope; no upload may take their ids

# Layer classes whose output a unit objective can score: feature maps (height, width, channels) of
# convolutions, activations and block joins, and the units (classes) of Dense layers. Uploads must
# hold at least one.
VISUALISABLE_LAYERS = frozenset({"Conv2D", "SeparableConv2D", "DepthwiseConv2D", "Conv2DTranspose", "Activation",
                                 "ReLU", "Add", "Concatenate", "Dense"})
# Of those, the ones that may also be scored on a vector output (classes).
VECTOR_LAYERS = frozenset({"Dense", "Activation"})

Source = Literal["builtin", "standard", "upload"]
Status = Literal["ready", "inspecting", "missing-weights", "rejected"]


class LayerInfo(BaseModel):
    name: str
    type: str = Field(description="Keras layer class.")
    filters: int = Field(description="Channels (or classes) the layer has; valid indices are 0..filters-1.")
    output_shape: list[int | None] = Field(
        description="Output shape without the batch axis, for a reference input: (height, width, channels) or (units,).")

    @property
    def is_vector(self) -> bool:
        return len(self.output_shape) == 1


class ModelInfo(BaseModel):
    id: str
    name: str
    source: Source = "builtin"
    available: bool = Field(True, description="Whether requests for it can be rendered now.")
    status: Status = "ready"
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
