"""How large a model's config says it is, checked before anything is built.

Keras allocates every weight of a model before it reads model.weights.h5, so a tiny file whose
config declares a convolution with millions of filters would make a worker allocate gigabytes.
Each layer's width and kernel are bounded, and the weights the config declares at the least must
fit in the weights file the archive actually carries. A layer's input channels are read from the
shapes the config records (its build input shape, or its inbound tensor's); where none is
recorded, one channel is assumed, so the count stays a lower bound. A config that lies about its
shapes gets past this check, not past the child process that loads the file first.
"""

from __future__ import annotations

import math

from core.errors import InvalidRequest

MAX_UNITS = 65_536  # filters or units of one layer; real image models stay far below
MAX_KERNEL_SIDE = 64
BYTES_PER_WEIGHT = 2  # the least one stored weight takes (float16 or bfloat16)
CONVOLUTIONS = {"Conv1D", "Conv2D", "Conv2DTranspose", "SeparableConv2D", "DepthwiseConv2D"}


def keras_layers(node):
    """Every serialised Keras layer in a config, nested models included."""
    if isinstance(node, list):
        for item in node:
            yield from keras_layers(item)
    elif isinstance(node, dict):
        if node.get("module") == "keras.layers" and isinstance(node.get("config"), dict):
            yield node
        for value in node.values():
            yield from keras_layers(value)


def whole(value, name: str, field: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidRequest("file", f"layer {name!r}: {field} is not a whole number ({value!r})")
    return value


def input_channels(layer: dict) -> int:
    """The channels of the layer's input as its config records them; 1 where it records none."""
    shapes = [(layer.get("build_config") or {}).get("input_shape")]
    for node in layer.get("inbound_nodes") or []:
        for tensor in (node.get("args") or []) if isinstance(node, dict) else []:
            if isinstance(tensor, dict) and isinstance(tensor.get("config"), dict):
                shapes.append(tensor["config"].get("shape"))
    for shape in shapes:
        if isinstance(shape, list) and shape and isinstance(shape[-1], int) and not isinstance(shape[-1], bool):
            return max(1, shape[-1])
    return 1


def least_weights(layer: dict) -> int:
    """The fewest weights the layer can hold given its recorded input; refuses absurd sizes."""
    kind, config = layer.get("class_name"), layer["config"]
    name = str(config.get("name", kind))
    width = 0
    for field in ("filters", "units", "depth_multiplier"):
        if field in config and config[field] is not None:
            width = max(width, whole(config[field], name, field))
    if width > MAX_UNITS:
        raise InvalidRequest("file", f"layer {name!r} declares {width:,} filters or units; at most {MAX_UNITS:,} are "
                             "accepted")
    if kind == "Embedding":
        return whole(config.get("input_dim", 0), name, "input_dim") * whole(config.get("output_dim", 0), name, "output_dim")
    fan_in = input_channels(layer)
    if kind == "Dense":
        return fan_in * width
    if kind not in CONVOLUTIONS:
        return 0
    kernel = config.get("kernel_size", 1)
    sides = [whole(side, name, "kernel_size") for side in (kernel if isinstance(kernel, list) else [kernel])]
    if max(sides, default=1) > MAX_KERNEL_SIDE:
        raise InvalidRequest("file", f"layer {name!r} declares a {sides} kernel; sides of at most {MAX_KERNEL_SIDE} "
                             "are accepted")
    kernel_area = math.prod(sides)
    if kind == "SeparableConv2D":  # a depthwise kernel per input channel, then a 1x1 convolution
        multiplier = whole(config.get("depth_multiplier", 1), name, "depth_multiplier")
        return fan_in * multiplier * (kernel_area + whole(config.get("filters", 0), name, "filters"))
    groups = config.get("groups", 1)
    groups = groups if isinstance(groups, int) and not isinstance(groups, bool) and groups > 0 else 1
    return width * kernel_area * max(1, fan_in // groups)


def check_size(config: dict, weights_bytes: int) -> None:
    least = sum(least_weights(layer) for layer in keras_layers(config))
    if least * BYTES_PER_WEIGHT > weights_bytes:
        raise InvalidRequest("file", f"config.json declares at least {least:,} weights, more than model.weights.h5 "
                             f"({weights_bytes:,} bytes) can hold: refused before anything is built")
