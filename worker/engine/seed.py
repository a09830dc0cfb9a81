"""The `seed` method: activation maximisation as the original article built it.

A Keras model whose first layer is a Dense layer fed one constant input unit; its weights are the
pixels of the "dream" images (in the CNN's own input units), reshaped into images and fed through
the frozen CNN. The loss that raises each image's filter is an activity regulariser on the chosen
layer's output, and the whole model is trained with `model.fit` and plain SGD, so only the Dense
weights, the images, change. Several filters share one model: the Dense layer holds one image per
filter, and the regulariser scores each image on its own filter.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from service.visualizations.schemas import FilledParams
from worker.engine.objectives import channel_mean
from worker.engine.optimize import StepCallback
from worker.engine.parameterisations import starting_noise
from worker.engine.target import LayerTarget


class FilterActivationRegulariser(keras.regularizers.Regularizer):
    """Penalty = minus each image's mean activation of its own filter.

    The filters sit in a variable so that a compiled dream model can be reused for other filters.
    """

    def __init__(self, batch: int):
        self.filters = tf.Variable(tf.zeros((batch,), tf.int32), trainable=False, name="dream_filters")

    def __call__(self, activations):
        objective = channel_mean(activations, self.filters)
        # Keras divides activity penalties by the batch size; undo it so that every image gets
        # the gradient of its own objective, however many images share the batch.
        batch = tf.cast(tf.shape(activations)[0], activations.dtype)
        return -tf.reduce_sum(objective) * batch


class DreamImages(keras.layers.Layer):
    """Reshape the Dense layer's single output row into a batch of images."""

    def __init__(self, size: int, **kwargs):
        super().__init__(**kwargs)
        self.size = size

    def call(self, row):
        return keras.ops.reshape(row, (-1, self.size, self.size, 3))


class _StepReporter(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.on_step: StepCallback = lambda step: None

    def on_train_batch_end(self, batch, logs=None):
        self.on_step(batch + 1)


class DreamModel:
    """Dense(constant unit) → images → frozen CNN → regularised layer, compiled with SGD.

    Built once per (layer, batch, size) and kept on the `LayerTarget`: later jobs only assign new
    starting pixels, filters and learning rate, so neither the model nor its train step is built
    again, and the shared CNN gains no new graph nodes per job.
    """

    def __init__(self, target: LayerTarget, batch: int, size: int):
        self.target = target
        self.shape = (batch, size, size, 3)
        unit = keras.Input(shape=(1,), name="constant_unit")
        self.dense = keras.layers.Dense(batch * size * size * 3, use_bias=False, name="dream")
        images = DreamImages(size, name="dream_images")(self.dense(unit))
        _, activations = target.model(images)
        self.regulariser = FilterActivationRegulariser(batch)
        # The penalty sits on the chosen layer's output; an identity layer carries it so that the
        # frozen model, shared with other jobs, is never modified.
        scored = keras.layers.Activation("linear", activity_regularizer=self.regulariser, name="filter_objective")(
            activations
        )
        self.model = keras.Model(unit, scored, name="dream")
        self.optimizer = keras.optimizers.SGD(learning_rate=1.0)
        self.model.compile(optimizer=self.optimizer, loss=None, jit_compile=False)
        self.reporter = _StepReporter()

    @classmethod
    def for_target(cls, target: LayerTarget, batch: int, size: int) -> DreamModel:
        key = ("seed", size, batch)
        if key not in target.cache:
            target.cache[key] = cls(target, batch, size)
        return target.cache[key]

    def train(self, start: np.ndarray, filters: list[int], params: FilledParams, on_step: StepCallback) -> np.ndarray:
        self.dense.kernel.assign(start.reshape(1, -1))
        self.regulariser.filters.assign(np.asarray(filters, np.int32))
        self.optimizer.learning_rate = params.learning_rate
        self.reporter.on_step = on_step
        # One epoch of `steps` batches of the single constant unit: one SGD step per batch.
        constant_unit = np.ones((params.steps, 1), np.float32)
        self.model.fit(constant_unit, batch_size=1, epochs=1, verbose=0, shuffle=False, callbacks=[self.reporter])
        return self.dense.kernel.numpy().reshape(self.shape)


def run_seed_method(target: LayerTarget, filters: list[int], params: FilledParams, on_step: StepCallback) -> tuple[np.ndarray, np.ndarray]:
    """Train the dream model; return (start, result) RGB images in [0, 1]."""
    size = params.image_size
    noise = np.broadcast_to(starting_noise(params.seed, size), (len(filters), size, size, 3))
    start = target.preprocessing.to_input(tf.constant(noise)).numpy()
    pixels = DreamModel.for_target(target, len(filters), size).train(start, filters, params, on_step)
    return noise, np.clip(target.preprocessing.to_rgb(pixels), 0.0, 1.0)
