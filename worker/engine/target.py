"""A model cut at the layer being visualised, giving that layer's output before and after its
activation function, plus the preprocessing that turns RGB in [0, 1] into the model's input."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

import keras
import numpy as np
import tensorflow as tf

MAX_CACHED = 8  # traced steps kept per layer


@dataclass(frozen=True)
class Preprocessing:
    """How RGB pixels in [0, 1] become model input: scale, colour order, mean and std."""

    colour_order: str = "RGB"
    scale: float = 255.0  # input value of a white pixel, before mean and std
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)  # in the model's colour order
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)

    @classmethod
    def from_spec(cls, spec: dict) -> Preprocessing:
        return cls(colour_order=spec["colour_order"], scale=float(spec["scale"]), mean=tuple(spec["mean"]),
                   std=tuple(spec["std"]))

    def to_input(self, rgb: tf.Tensor) -> tf.Tensor:
        """RGB (or grey, one channel) in [0, 1] to model input."""
        channels = rgb.shape[-1]
        x = rgb * self.scale
        if self.colour_order == "BGR" and channels == 3:
            x = x[..., ::-1]
        return (x - tf.constant(self.mean[:channels], x.dtype)) / tf.constant(self.std[:channels], x.dtype)

    def to_rgb(self, model_input: np.ndarray) -> np.ndarray:
        x = model_input * np.asarray(self.std, np.float32) + np.asarray(self.mean, np.float32)
        if self.colour_order == "BGR":
            x = x[..., ::-1]
        return x / self.scale


def linear_twin(layer: keras.layers.Layer) -> keras.layers.Layer:
    """The same layer with a linear activation, sharing nothing but the (copied) weights."""
    config = layer.get_config() | {"activation": "linear", "name": f"{layer.name}_preactivation"}
    twin = layer.__class__.from_config(config)
    twin.build(layer.input.shape)
    twin.set_weights(layer.get_weights())
    twin.trainable = False
    return twin


@dataclass
class LayerTarget:
    """The model truncated at one layer, ending in that layer without its activation function.

    `activations(rgb)` returns (pre-activation, activation); the activation is applied to the
    pre-activation rather than computed by a second copy of the layer, so the target layer runs
    once per step.
    """

    layer_name: str
    model: keras.Model  # preprocessed input -> pre-activation of the target layer
    activation: object
    channels: int
    preprocessing: Preprocessing
    bytes_per_pixel: float  # activation memory of one image per input pixel, forward and backward
    input_size: int | None = None  # a model with a fixed input size sees every image resized to it
    input_channels: int = 3  # a one-channel model sees the grey of the RGB image
    cache: OrderedDict = field(default_factory=OrderedDict)  # compiled steps, kept for later jobs (LRU)

    @classmethod
    def build(cls, model: keras.Model, layer_name: str, preprocessing: Preprocessing) -> LayerTarget:
        layer = model.get_layer(layer_name)
        if hasattr(layer, "activation"):
            activation = layer.activation or keras.activations.linear
            pre = linear_twin(layer)(layer.input)
        else:
            activation, pre = keras.activations.linear, layer.output
        truncated = keras.Model(model.inputs, pre, name=f"{model.name}_to_{layer_name}")
        truncated.trainable = False
        height, _, channels = model.input_shape[1:]
        return cls(
            layer_name=layer_name,
            model=truncated,
            activation=activation,
            channels=int(layer.output.shape[-1]),
            preprocessing=preprocessing,
            bytes_per_pixel=activation_bytes_per_pixel(truncated),
            input_size=height,
            input_channels=channels,
        )

    def activations(self, rgb: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        if self.input_size and rgb.shape[1] != self.input_size:
            rgb = tf.image.resize(rgb, [self.input_size, self.input_size], method="bilinear")
        if self.input_channels == 1:
            rgb = tf.reduce_mean(rgb, axis=-1, keepdims=True)
        pre = self.model(self.preprocessing.to_input(rgb), training=False)
        pre = tf.cast(pre, tf.float32)  # objectives and gradients' sums stay in float32
        return pre, self.activation(pre)

    def in_precision(self, precision: str) -> LayerTarget:
        """This target computing in `precision` ("float32" or "bfloat16"), built once and kept.

        bfloat16 halves memory traffic and, where the hardware has it (AVX512-BF16 CPUs, GPUs),
        runs convolutions about twice as fast; objectives stay in float32.
        """
        if precision == "float32":
            return self
        return self.cached(precision, lambda: LayerTarget(
                layer_name=self.layer_name,
                model=cast_model(self.model, precision),
                activation=self.activation,
                channels=self.channels,
                preprocessing=self.preprocessing,
                bytes_per_pixel=self.bytes_per_pixel / 2,
                input_size=self.input_size,
                input_channels=self.input_channels,
            ))

    def cached(self, key, build):
        """A traced step (or precision variant) for `key`, built once; the least recently used of
        more than MAX_CACHED go, so a worker serving many shapes does not grow without bound."""
        if key in self.cache:
            self.cache.move_to_end(key)
        else:
            self.cache[key] = build()
            while len(self.cache) > MAX_CACHED:
                self.cache.popitem(last=False)
        return self.cache[key]


def cast_model(model: keras.Model, dtype: str) -> keras.Model:
    """A copy of a frozen model whose layers compute and keep their weights in `dtype`."""

    def in_dtype(layer: keras.layers.Layer) -> keras.layers.Layer:
        if isinstance(layer, keras.layers.InputLayer):
            return layer
        return layer.__class__.from_config(layer.get_config() | {"dtype": dtype})

    copy = keras.models.clone_model(model, clone_function=in_dtype)
    for original, cloned in zip(model.layers, copy.layers):
        if original.weights:
            cloned.set_weights(original.get_weights())
    copy.trainable = False
    return copy


def activation_bytes_per_pixel(model: keras.Model, reference: int = 64) -> float:
    """Float32 bytes of every layer output for one image, per input pixel, times three to cover
    the gradients and temporaries of a backward pass. Used to size batches to a memory budget."""
    height, _, channels = model.input_shape[1:]
    reference = height or reference
    outputs = [layer.output for layer in model.layers[1:]]
    shapes = keras.Model(model.inputs, outputs).compute_output_shape((1, reference, reference, channels))
    if not isinstance(shapes, list):
        shapes = [shapes]
    elements = sum(int(np.prod(shape[1:])) for shape in shapes)
    return 3 * 4 * elements / (reference * reference)
