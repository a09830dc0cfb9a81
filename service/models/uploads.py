"""Uploads of users' own Keras models, checked before anything is deserialised.

A `.keras` file is a zip archive of `metadata.json`, `config.json` and `model.weights.h5`. Before a
worker ever loads one (with `safe_mode=True`), the API checks, without unpacking anything to disk:
the upload's size; that it is a zip and not HDF5 or a SavedModel; its members (only those three,
no paths), their uncompressed sizes and compression ratios (zip bombs); and every object named in
`config.json`: each layer class must be on an allow-list of built-in Keras layers, every other object
must come from Keras' own initializers, regularizers, constraints, dtype policies, optimizers, losses
or metrics, and nothing may be a lambda, a function, a registered custom object, a dotted class path,
`TFSMLayer` or `TorchModuleWrapper`. The model needs an image input: rank 4, 1 or 3 channels.
"""

from __future__ import annotations

import io
import json
import math
import re
import zipfile

from core.errors import InvalidRequest, UploadTooLarge
from core.models import VISUALISABLE_LAYERS
from core.preprocessing import Mode, preprocessing_spec
from core.settings import MB
from service.models.sizes import check_size

ID_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,62}$"
MEMBERS = {"metadata.json", "config.json", "model.weights.h5"}
MAX_JSON_BYTES = 16 * MB
MAX_COMPRESSION_RATIO = 100
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"

ALLOWED_LAYERS = {
    "InputLayer", "Conv1D", "Conv2D", "SeparableConv2D", "DepthwiseConv2D", "Conv2DTranspose", "Dense",
    "Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax", "BatchNormalization", "LayerNormalization",
    "GroupNormalization", "UnitNormalization", "Dropout", "SpatialDropout2D", "GaussianNoise", "GaussianDropout",
    "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D", "GlobalMaxPooling2D", "Flatten", "Reshape",
    "Permute", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "ZeroPadding2D",
    "Cropping2D", "UpSampling2D", "Rescaling", "Normalization", "Resizing", "CenterCrop", "Identity", "Embedding",
}
ALLOWED_MODELS = {"Functional", "Sequential", "Model"}
# Training settings a compiled model carries; workers load with compile=False, but they are checked all the same.
ALLOWED_OBJECT_MODULES = {"keras", "keras.initializers", "keras.regularizers", "keras.constraints", "keras.optimizers",
                          "keras.losses", "keras.metrics"}
INTERNAL_MARKERS = {"__keras_tensor__"}
# Keras resolves module "keras" plus a class name as keras.<name>: only these names may use it.
ALLOWED_TOP_LEVEL = {"DTypePolicy", "FloatDTypePolicy", "Functional", "Sequential", "Model"}
LEGACY_FORMAT = ("legacy HDF5 (.h5) models are not accepted: Keras' safe_mode does not cover them; save the model "
                 "as .keras (Keras 3)")


def check_id(model_id: str) -> None:
    if not re.fullmatch(ID_PATTERN, model_id):
        raise InvalidRequest("id", "1 to 63 characters: lower-case letters, digits, '.', '_' and '-', starting with a "
                      "letter or digit (no path separators)")


def parse_input_range(text: str) -> tuple[float, float]:
    try:
        low, high = (float(part) for part in text.split(","))
    except ValueError:
        raise InvalidRequest("input_range", "two numbers separated by a comma, such as 0,255 or 0,1") from None
    if not (math.isfinite(low) and math.isfinite(high)):
        raise InvalidRequest("input_range", "two finite numbers, such as 0,255 or 0,1")
    if not low < high:
        raise InvalidRequest("input_range", "the first number must be below the second")
    return low, high


def upload_spec(mode: Mode, input_range: str) -> dict:
    """`input_range` matters only for `none`; the other modes fix their own range."""
    return preprocessing_spec(mode, parse_input_range(input_range) if mode == "none" else (0.0, 255.0))


def check_archive(data: bytes, max_bytes: int) -> dict:
    """Every check that needs no deserialisation; returns the parsed config.json."""
    if len(data) > max_bytes:
        raise UploadTooLarge(f"The file has {len(data)} bytes; the limit is {max_bytes}.",
                             errors=[{"field": "file", "reason": f"larger than {max_bytes} bytes"}])
    if data.startswith(HDF5_SIGNATURE):
        raise InvalidRequest("file", LEGACY_FORMAT)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise InvalidRequest("file", "not a .keras archive (a zip file): truncated, corrupt or another format such as a "
                      "SavedModel") from None
    names = {m.filename for m in members}
    if names != MEMBERS or len(members) != len(MEMBERS):
        unexpected = sorted(names - MEMBERS) or sorted(MEMBERS - names)
        raise InvalidRequest("file", f"a .keras archive holds exactly {sorted(MEMBERS)}; found {sorted(names)} "
                      f"(unexpected or missing: {unexpected})")
    total = 0
    for member in members:
        limit = MAX_JSON_BYTES if member.filename.endswith(".json") else 2 * max_bytes
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > limit or ratio > MAX_COMPRESSION_RATIO:
            raise InvalidRequest("file", f"member {member.filename} unpacks to {member.file_size} bytes (ratio {ratio:.0f}): "
                          "refused as a possible zip bomb")
        total += member.file_size
    if total > 2 * max_bytes:
        raise InvalidRequest("file", f"the archive unpacks to {total} bytes, over the limit of {2 * max_bytes}")
    try:
        config = json.loads(archive.read("config.json"))
    except (ValueError, zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, RecursionError) as error:
        raise InvalidRequest("file", f"config.json is not readable JSON: {error}") from None
    if not isinstance(config, dict):
        raise InvalidRequest("file", "config.json does not describe a model (it is not an object)")
    weights_bytes = next(m.file_size for m in members if m.filename == "model.weights.h5")
    try:
        check_objects(config)
        check_image_input(config)
        check_visualisable(config)
        check_size(config, weights_bytes)
    except (AttributeError, TypeError, KeyError, RecursionError) as error:
        raise InvalidRequest("file", f"config.json does not describe a Keras model the usual way: {type(error).__name__}") from None
    return config


def check_objects(node, path: str = "config") -> None:
    """Walk config.json: every serialised object must be a built-in Keras one on the allow-list."""
    if isinstance(node, list):
        for i, item in enumerate(node):
            check_objects(item, f"{path}[{i}]")
        return
    if not isinstance(node, dict):
        return
    if "class_name" in node:
        check_object(node, path)
    for key, value in node.items():
        check_objects(value, f"{path}.{key}")


def check_object(node: dict, path: str) -> None:
    name, module, registered = node.get("class_name"), node.get("module"), node.get("registered_name")
    if name in INTERNAL_MARKERS and module is None:
        return
    where = f"{name!r} at {path}"
    if not isinstance(name, str) or "." in name or (module == "keras" and name not in ALLOWED_TOP_LEVEL):
        raise InvalidRequest("file", f"{where} is not an accepted class name (dotted paths and other top-level Keras "
                      "objects are refused)")
    if not isinstance(module, str) or not (module == "keras" or module.startswith("keras.")):
        raise InvalidRequest("file", f"{where} is not a built-in Keras object (module {module!r}): lambdas, functions and "
                      "custom objects are refused")
    if registered not in (None, name):
        raise InvalidRequest("file", f"{where} is a registered custom object ({registered!r}); only built-in Keras layers "
                      "are accepted")
    if module == "keras.layers" and name not in ALLOWED_LAYERS:
        raise InvalidRequest("file", f"layer class {where} is not on the allow-list of built-in layers (no Lambda, TFSMLayer, "
                      "TorchModuleWrapper or custom layers)")
    if module.startswith("keras.src.models") or module == "keras.models":
        if name not in ALLOWED_MODELS:
            raise InvalidRequest("file", f"model class {where} is not a Functional or Sequential model")
    elif module != "keras.layers" and module not in ALLOWED_OBJECT_MODULES:
        raise InvalidRequest("file", f"{where} comes from {module!r}, which is not accepted in an uploaded model")


def check_image_input(config: dict) -> None:
    layers = config.get("config", {}).get("layers", [])
    inputs = [layer for layer in layers if layer.get("class_name") == "InputLayer"]
    shape = None
    if inputs:
        shape = inputs[0].get("config", {}).get("batch_shape")
    elif config.get("class_name") == "Sequential" and layers:
        shape = layers[0].get("config", {}).get("batch_shape")
    if len(inputs) > 1:
        raise InvalidRequest("file", "the model has several inputs; an image model takes exactly one")
    if not shape or len(shape) != 4 or shape[-1] not in (1, 3):
        raise InvalidRequest("file", f"the model needs an image input (batch, height, width, 1 or 3 channels); its input "
                      f"shape is {shape}")


def check_visualisable(config: dict) -> None:
    classes = {layer.get("class_name") for layer in config.get("config", {}).get("layers", [])}
    if not classes & VISUALISABLE_LAYERS:
        raise InvalidRequest("file", "the model has no visualisable layer (a convolution, activation, join or Dense layer)")
