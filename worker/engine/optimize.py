"""The batched gradient-ascent loop for the `fourier` and `pixel` methods.

One `GradientAscent` is compiled per (layer, method, image size, batch size, transforms) and kept
on its `LayerTarget`, so later jobs of the same shape reuse the traced step instead of tracing it
again. Only the image variables get gradients; the model's weights are frozen.
"""

from __future__ import annotations

from typing import Callable

import keras
import numpy as np
import tensorflow as tf

from service.visualizations.schemas import FilledParams, Method
from worker.engine.objectives import warmed_channel_mean
from worker.engine.parameterisations import FourierImage, PixelImage
from worker.engine.target import LayerTarget
from worker.engine.transforms import identity_affines, random_affines, resample

WARMUP_FRACTION = 0.1  # share of the steps spent on the pre-activation objective

StepCallback = Callable[[int], None]


class GradientAscent:
    def __init__(self, target: LayerTarget, method: Method, size: int, batch: int):
        self.target = target
        self.image = FourierImage(batch, size) if method is Method.fourier else PixelImage(batch, size)
        self.clip_to_range = method is Method.pixel
        self.filters = tf.Variable(tf.zeros((batch,), tf.int32), trainable=False, name="filters")
        self.optimizer = keras.optimizers.Adam(learning_rate=0.01)
        self.optimizer.build(self.image.variables)
        self._step = tf.function(self._ascend, jit_compile=False)

    @classmethod
    def for_target(cls, target: LayerTarget, method: Method, size: int, batch: int) -> GradientAscent:
        key = (method, size, batch)
        if key not in target.cache:
            target.cache[key] = cls(target, method, size, batch)
        return target.cache[key]

    def reset(self, filters: list[int], params: FilledParams) -> None:
        self.image.reset(params.seed)
        self.filters.assign(np.asarray(filters, np.int32))
        for variable in self.optimizer.variables:
            variable.assign(tf.zeros_like(variable))
        self.optimizer.learning_rate = params.learning_rate

    def images(self) -> np.ndarray:
        return self.image().numpy()

    def run(self, filters: list[int], params: FilledParams, on_step: StepCallback) -> np.ndarray:
        """Optimise one batch from its seed and return its RGB images in [0, 1]."""
        self.reset(filters, params)
        size = params.image_size
        affines = random_affines(params.seed, params.steps, size) if params.transforms else identity_affines(params.steps)
        warmup_steps = int(params.steps * WARMUP_FRACTION)
        for step in range(params.steps):
            warm = tf.constant(1.0 if step < warmup_steps else 0.0)
            self._step(tf.constant(affines[step]), warm)
            on_step(step + 1)
        return self.images()

    def _ascend(self, affine: tf.Tensor, warmup: tf.Tensor) -> tf.Tensor:
        variables = self.image.variables
        with tf.GradientTape() as tape:
            rgb = resample(self.image(), affine)
            pre, post = self.target.activations(rgb)
            objective = warmed_channel_mean(pre, post, self.filters, warmup)
            # A sum, not a mean: each image's gradient stays the same whatever the batch size.
            loss = -tf.reduce_sum(objective)
        gradients = tape.gradient(loss, variables)
        self.optimizer.apply_gradients(zip(gradients, variables))
        if self.clip_to_range:
            self.image.constrain()
        return objective
