"""The models a worker holds: built-ins converted on first use, loaded once, cut at layers on
demand, and described to the API through the catalog in Redis."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import keras

from service.models.catalog import LayerInfo, ModelInfo
from service.models.standard import STANDARD_MODELS, find_weights
from service.settings import Settings
from worker.engine.target import LayerTarget, Preprocessing
from worker.models import vgg16_hed

# Layers whose output a unit objective can score: feature maps (height, width, channels) of
# convolutions, activations and block joins, and the units (classes) of Dense layers.
VISUALISABLE_LAYERS = ("Conv2D", "SeparableConv2D", "DepthwiseConv2D", "Conv2DTranspose", "Activation", "ReLU",
                       "Add", "Concatenate", "Dense")
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


def visualisable(layer: keras.layers.Layer) -> bool:
    if type(layer).__name__ not in VISUALISABLE_LAYERS:
        return False
    rank = len(layer.output.shape)
    return rank == 4 or (rank == 2 and type(layer).__name__ in ("Dense", "Activation"))


def describe(model_id: str, name: str, model: keras.Model, fingerprint: str, preprocessing: dict,
             source: str = "builtin") -> ModelInfo:
    layers = [layer for layer in model.layers if visualisable(layer)]
    height, _, channels = model.input_shape[1:]
    reference = height or REFERENCE_INPUT_SIZE
    probe = keras.Model(model.inputs, [layer.output for layer in layers])
    shapes = probe.compute_output_shape((1, reference, reference, channels))
    shapes = shapes if isinstance(shapes, list) else [shapes]
    return ModelInfo(
        id=model_id,
        name=name,
        source=source,
        fingerprint=fingerprint,
        input_shape=list(model.input_shape[1:]),
        reference_input_size=reference,
        preprocessing=preprocessing,
        layers=[
            LayerInfo(name=layer.name, type=type(layer).__name__, filters=int(shape[-1]), output_shape=list(shape[1:]))
            for layer, shape in zip(layers, shapes)
        ],
    )


class ModelRegistry:
    def __init__(self, models_dir: Path, weights_dir: Path | None = None):
        self.models_dir = models_dir
        self.weights_dir = weights_dir or models_dir.parent / "weights"
        self.loaded: dict[str, LoadedModel] = {}

    def builtin_ids(self) -> list[str]:
        return [vgg16_hed.MODEL_ID]

    def get(self, model_id: str) -> LoadedModel:
        if model_id not in self.loaded:
            self.loaded[model_id] = self._load(model_id)
        return self.loaded[model_id]

    def _load(self, model_id: str) -> LoadedModel:
        if model_id == vgg16_hed.MODEL_ID:
            path = vgg16_hed.ensure_converted(self.models_dir)
            model = keras.saving.load_model(path, compile=False, safe_mode=True)
            return self._loaded(model_id, vgg16_hed.DISPLAY_NAME, model, path, vgg16_hed.PREPROCESSING, "builtin")
        if model_id in STANDARD_MODELS:
            return self._load_standard(model_id)
        raise UnknownModel(f"unknown model {model_id!r}")

    def _load_standard(self, model_id: str) -> LoadedModel:
        standard = STANDARD_MODELS[model_id]
        path = find_weights(standard, self.weights_dir)
        if path is None:
            raise UnknownModel(f"the weights of {model_id!r} ({standard.weights_file}) are not in {self.weights_dir}")
        # A file path as `weights` loads it; nothing is downloaded.
        model = getattr(keras.applications, standard.application)(weights=str(path))
        return self._loaded(model_id, standard.name, model, path, standard.preprocessing_spec(), "standard")

    @staticmethod
    def _loaded(model_id: str, name: str, model: keras.Model, path: Path, spec: dict, source: str) -> LoadedModel:
        info = describe(model_id, name, model, file_fingerprint(path), spec, source)
        return LoadedModel(info=info, model=model, preprocessing=Preprocessing.from_spec(spec))


_current: ModelRegistry | None = None


def current(settings: Settings) -> ModelRegistry:
    """The process-wide registry: models stay loaded between jobs."""
    global _current
    if _current is None or _current.models_dir != settings.models_dir:
        _current = ModelRegistry(settings.models_dir, settings.effective_weights_dir)
    return _current
