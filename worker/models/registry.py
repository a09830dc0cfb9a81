"""The models a worker holds: built-ins converted on first use, loaded once, cut at layers on
demand, and described to the API through the catalog in Redis."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np
from redis import Redis
from redis.exceptions import RedisError

from core import defaults
from core.errors import FilterscopeError, ModelUnavailable, UnusableModel
from core.models import VECTOR_LAYERS, VGG16_HED, VISUALISABLE_LAYERS, LayerInfo, ModelInfo
from core.settings import Settings
from core.standard import STANDARD_MODELS, StandardModel, find_weights, weights_dirs
from core.store import weights
from core.store.files import model_files
from core.store.weights import Weights
from core.store.uploads import UploadRecord
from worker.engine.target import LayerTarget, Preprocessing
from worker.models import vgg16_hed
from worker.models.files import LocalFiles
from worker.models.fingerprint import model_fingerprint

REFERENCE_INPUT_SIZE = 224


class UnknownModel(ModelUnavailable):
    """A model (or layer) this worker cannot load: not built in, not in the catalog, or its file gone."""


@dataclass
class LoadedModel:
    info: ModelInfo
    model: keras.Model
    preprocessing: Preprocessing
    file_sha256: str = ""  # of the file it was loaded from: an upload's version
    targets: dict[str, LayerTarget] = field(default_factory=dict)

    def target(self, layer: str) -> LayerTarget:
        """The model cut at `layer`, built once and kept with its compiled optimisers."""
        if layer not in self.targets:
            if self.info.layer(layer) is None:
                raise UnknownModel(f"model {self.info.id!r} has no visualisable layer {layer!r}")
            self.targets[layer] = LayerTarget.build(self.model, layer, self.preprocessing)
        return self.targets[layer]


def visualisable(layer: keras.layers.Layer) -> bool:
    if type(layer).__name__ not in VISUALISABLE_LAYERS:
        return False
    rank = len(layer.output.shape)
    return rank == 4 or (rank == 2 and type(layer).__name__ in VECTOR_LAYERS)


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


def model_bytes(model: keras.Model) -> int:
    return sum(int(np.prod(w.shape)) * np.dtype(w.dtype).itemsize for w in model.weights)


class ModelRegistry:
    """Loaded models, least recently used first; beyond `memory_budget` bytes of weights the least
    recently used are dropped (the one in use always stays)."""

    def __init__(self, models_dir: Path, files: LocalFiles | None = None, weights_dir: Path | None = None,
                 memory_budget: int = 4 * 1024**3, redis: Redis | None = None):
        self.models_dir = models_dir
        self.files = files  # None: built-in and standard models only (a benchmark, no model file store)
        self.redis = redis  # where stored weights of standard models are found; None: local files only
        self.weights_dir = weights_dir or models_dir.parent / "weights"
        self.memory_budget = memory_budget
        self.loaded: OrderedDict[str, LoadedModel] = OrderedDict()

    def builtin_ids(self) -> list[str]:
        return [VGG16_HED]

    def held(self) -> list[str]:
        return list(self.loaded)

    def get(self, model_id: str, upload: UploadRecord | None = None) -> LoadedModel:
        loaded = self.loaded.get(model_id)
        if loaded is not None and loaded.info.source == "upload" and upload is None:
            del self.loaded[model_id]  # deleted since it was loaded: never rendered from memory
            raise UnknownModel(f"model {model_id!r} was deleted")
        if loaded is None or (upload is not None and loaded.file_sha256 != upload.file_sha256) or self.replaced(loaded):
            try:
                loaded = self._load_upload(upload) if upload is not None else self._load(model_id)
            except FilterscopeError:
                raise
            except Exception as error:  # a file Keras or h5py cannot read: the model is unavailable
                raise UnknownModel(f"model {model_id!r} could not be loaded: {type(error).__name__}: {error}") from error
            self.loaded[model_id] = loaded
        self.loaded.move_to_end(model_id)
        self._evict()
        return loaded

    def _evict(self) -> None:
        while len(self.loaded) > 1 and sum(model_bytes(m.model) for m in self.loaded.values()) > self.memory_budget:
            self.loaded.popitem(last=False)

    def upload_file(self, upload: UploadRecord) -> Path:
        """The upload's file on this worker's disk, fetched from the model store the first time."""
        if self.files is None:
            raise UnknownModel(f"model {upload.id!r} is an upload, and this registry has no model file store")
        return self.files.path(upload.file_sha256, upload.file)

    def _load_upload(self, upload: UploadRecord) -> LoadedModel:
        path = self.upload_file(upload)
        # The archive passed the API's checks; safe_mode still refuses any code a config could carry.
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
        if len(model.inputs) != 1 or len(model.input_shape) != 4 or model.input_shape[-1] not in (1, 3):
            raise UnusableModel(f"the model needs one image input (batch, height, width, 1 or 3 channels); "
                                f"it has {model.input_shape}")
        loaded = self._loaded(upload.id, upload.name, model, upload.preprocessing, "upload")
        loaded.file_sha256 = upload.file_sha256
        if not loaded.info.layers:
            raise UnusableModel("the model has no visualisable layer (convolution, activation, join or Dense)")
        return loaded

    def _load(self, model_id: str) -> LoadedModel:
        if model_id == VGG16_HED:
            path = vgg16_hed.ensure_converted(self.models_dir)
            model = keras.saving.load_model(path, compile=False, safe_mode=True)
            return self._loaded(model_id, vgg16_hed.DISPLAY_NAME, model, vgg16_hed.PREPROCESSING, "builtin")
        if model_id in STANDARD_MODELS:
            return self._load_standard(model_id)
        known = ", ".join([VGG16_HED, *STANDARD_MODELS])
        raise UnknownModel(f"unknown model {model_id!r}; known models: {known} (and uploads, through the API)")

    def standard_weights(self, standard: StandardModel) -> Weights | None:
        """Local or stored weights; the local directories alone without Redis (`filterscope render`)
        or through a blip."""
        if self.redis is not None:
            try:
                return weights.locate(self.redis, standard, self.weights_dir)
            except RedisError:
                pass
        path = find_weights(standard, self.weights_dir)
        return Weights(stamp="", path=path) if path else None

    def replaced(self, loaded: LoadedModel) -> bool:
        """A standard model loaded from stored weights whose stored file has changed since."""
        if loaded.info.source != "standard" or not loaded.file_sha256:
            return False
        found = self.standard_weights(STANDARD_MODELS[loaded.info.id])
        return found is not None and found.stored is not None and found.stored.file_sha256 != loaded.file_sha256

    def _load_standard(self, model_id: str) -> LoadedModel:
        standard = STANDARD_MODELS[model_id]
        found = self.standard_weights(standard)
        if found is None:
            places = " nor in ".join(str(directory) for directory in weights_dirs(self.weights_dir))
            raise UnknownModel(f"the weights of {model_id!r} ({standard.weights_file}) are not in {places}; put the "
                               f"file in either, or add it for every worker (PUT /v1/models/{model_id}/weights, or "
                               "`filterscope weights add FILE`); nothing is downloaded")
        if found.path is None and self.files is None:
            raise UnknownModel(f"the weights of {model_id!r} are in the model file store, and this registry has none")
        path = found.path or self.files.path(found.stored.file_sha256, suffix=Path(standard.weights_file).suffix)
        # A file path as `weights` loads it; nothing is downloaded.
        model = getattr(keras.applications, standard.application)(weights=str(path))
        loaded = self._loaded(model_id, standard.name, model, standard.preprocessing_spec(), "standard")
        loaded.file_sha256 = found.stored.file_sha256 if found.stored else ""
        return loaded

    @staticmethod
    def _loaded(model_id: str, name: str, model: keras.Model, spec: dict, source: str) -> LoadedModel:
        info = describe(model_id, name, model, model_fingerprint(model, spec), spec, source)
        return LoadedModel(info=info, model=model, preprocessing=Preprocessing.from_spec(spec))


_current: ModelRegistry | None = None


def current(settings: Settings) -> ModelRegistry:
    """The process-wide registry: models stay loaded between jobs."""
    global _current
    if _current is None or _current.models_dir != settings.models_dir:
        redis = Redis.from_url(settings.effective_redis_url, socket_timeout=defaults.WORKER_CACHE_TIMEOUT,
                               socket_connect_timeout=defaults.WORKER_CACHE_TIMEOUT)
        files = LocalFiles(model_files(settings.model_store_url, redis), settings.models_dir / "files")
        _current = ModelRegistry(settings.models_dir, files, settings.effective_weights_dir,
                                 settings.worker_model_memory_bytes, redis)
    return _current
