"""The models a worker holds: built-ins converted on first use, loaded once, cut at layers on
demand, and described to the API through the catalog in Redis."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import keras

from service.models.catalog import LayerInfo, ModelInfo
from worker.engine.target import LayerTarget, Preprocessing
from worker.models import vgg16_hed

# Layers whose output is a (height, width, channels) map that a channel objective can score.
VISUALISABLE_LAYERS = ("Conv2D", "SeparableConv2D", "DepthwiseConv2D", "Conv2DTranspose")
REFERENCE_INPUT_SIZE = 224


class UnknownModel(LookupError):
    pass


@dataclass
class LoadedModel:
    info: ModelInfo
    model: keras.Model
    preprocessing: Preprocessing
    targets: dict[str, LayerTarget] = field(default_factory=dict)

    def target(self, layer: str) -> LayerTarget:
        """The model cut at `layer`, built once and kept with its compiled optimisers."""
        if layer not in self.targets:
            if self.info.layer(layer) is None:
                raise UnknownModel(f"model {self.info.id!r} has no visualisable layer {layer!r}")
            self.targets[layer] = LayerTarget.build(self.model, layer, self.preprocessing)
        return self.targets[layer]


def file_fingerprint(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def describe(model_id: str, name: str, model: keras.Model, fingerprint: str, preprocessing: dict) -> ModelInfo:
    layers = [layer for layer in model.layers if type(layer).__name__ in VISUALISABLE_LAYERS]
    probe = keras.Model(model.inputs, [layer.output for layer in layers])
    shapes = probe.compute_output_shape((1, REFERENCE_INPUT_SIZE, REFERENCE_INPUT_SIZE, model.input_shape[-1]))
    shapes = shapes if isinstance(shapes, list) else [shapes]
    return ModelInfo(
        id=model_id,
        name=name,
        fingerprint=fingerprint,
        input_shape=list(model.input_shape[1:]),
        reference_input_size=REFERENCE_INPUT_SIZE,
        preprocessing=preprocessing,
        layers=[
            LayerInfo(name=layer.name, type=type(layer).__name__, filters=int(shape[-1]), output_shape=list(shape[1:]))
            for layer, shape in zip(layers, shapes)
        ],
    )


class ModelRegistry:
    def __init__(self, models_dir: Path):
        self.models_dir = models_dir
        self.loaded: dict[str, LoadedModel] = {}

    def builtin_ids(self) -> list[str]:
        return [vgg16_hed.MODEL_ID]

    def get(self, model_id: str) -> LoadedModel:
        if model_id not in self.loaded:
            self.loaded[model_id] = self._load(model_id)
        return self.loaded[model_id]

    def _load(self, model_id: str) -> LoadedModel:
        if model_id != vgg16_hed.MODEL_ID:
            raise UnknownModel(f"unknown model {model_id!r}")
        path = vgg16_hed.ensure_converted(self.models_dir)
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
        spec = vgg16_hed.PREPROCESSING
        preprocessing = Preprocessing(colour_order=spec["colour_order"], scale=255.0, mean=tuple(spec["mean"]))
        info = describe(model_id, vgg16_hed.DISPLAY_NAME, model, file_fingerprint(path), spec | {"input_range": [0, 255]})
        return LoadedModel(info=info, model=model, preprocessing=preprocessing)


_current: ModelRegistry | None = None


def current(models_dir: Path) -> ModelRegistry:
    """The process-wide registry: models stay loaded between jobs."""
    global _current
    if _current is None or _current.models_dir != models_dir:
        _current = ModelRegistry(models_dir)
    return _current
