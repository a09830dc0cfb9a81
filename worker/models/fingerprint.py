"""A model's fingerprint: the SHA-256 of what it computes, not of the bytes of its file.

A `.keras` archive records when it was saved, so two conversions of the same weights, or a model
saved again, have different file digests. The fingerprint hashes instead the architecture (the
model's config as canonical JSON, its layers' names replaced by their places: Keras numbers the
names it makes up, such as `input_layer_1`, by how many models a process built before), every
weight in order (its shape, dtype and values) and how pixels become the model's input: the same model gives the same fingerprint on every machine, after every
conversion or re-save, and so the same request gets the same content key everywhere.
"""

from __future__ import annotations

import hashlib
import json

import keras
import numpy as np

# Part of every fingerprint: a change in what is hashed must change every fingerprint with it.
SCHEME = "filterscope-model-fingerprint/1"


def canonical_json(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode()


def layer_names(node: object, found: dict[str, str]) -> dict[str, str]:
    """Every layer's name, nested models' layers included, mapped to its place ("#0", "#1", ...)."""
    if isinstance(node, dict):
        for layer in node.get("layers", []) if isinstance(node.get("layers"), list) else []:
            if isinstance(layer, dict) and isinstance(layer.get("name"), str):
                found.setdefault(layer["name"], f"#{len(found)}")
        for value in node.values():
            layer_names(value, found)
    elif isinstance(node, (list, tuple)):
        for item in node:
            layer_names(item, found)
    return found


def without_names(node: object, places: dict[str, str]) -> object:
    """The config with every reference to a layer by name (its own `name`, a tensor's
    `keras_history`, the model's inputs and outputs) made a reference by place."""
    if isinstance(node, (list, tuple)):
        return [without_names(item, places) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "name" and isinstance(value, str):
            out[key] = places.get(value, value)
        elif key in ("keras_history", "input_layers", "output_layers"):
            out[key] = renamed_references(value, places)
        else:
            out[key] = without_names(value, places)
    return out


def renamed_references(value: object, places: dict[str, str]) -> object:
    if isinstance(value, (list, tuple)):  # get_config() gives tuples where its JSON has lists
        if value and isinstance(value[0], str):
            return [places.get(value[0], value[0]), *value[1:]]
        return [renamed_references(item, places) for item in value]
    return value


def model_fingerprint(model: keras.Model, preprocessing: dict) -> str:
    config = model.get_config()
    config = without_names(config, layer_names(config, {}))
    digest = hashlib.sha256(SCHEME.encode())
    digest.update(canonical_json({"config": config, "preprocessing": preprocessing}))
    for weight in model.weights:
        values = np.ascontiguousarray(keras.ops.convert_to_numpy(weight))
        digest.update(canonical_json([list(values.shape), values.dtype.str]))
        digest.update(values.astype(values.dtype.newbyteorder("<"), copy=False).tobytes())
    return digest.hexdigest()
