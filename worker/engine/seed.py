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


@keras.saving.register_keras_serializable(package="filterscope")
class FilterActivationRegulariser(keras.regularizers.Regularizer):
    """Penalty = minus each image's mean activation of its own filter."""

    def __init__(self, filters: list[int]):
        self.filters = [int(f) for f in filters]

    def __call__(self, activations):
        objective = channel_mean(activations, tf.constant(self.filters, tf.int32))
        # Keras divides activity penalties by the batch size; undo it so that every image gets
        # the gradient of its own objective, however many images share the batch.
        batch = tf.cast(tf.shape(activations)[0], activations.dtype)
        return -tf.reduce_sum(objective) * batch

    def get_config(self) -> dict:
        return {"filters": self.filters}


class DreamImages(keras.layers.Layer):
    """Reshape the Dense layer's single output row into a batch of images."""

    def __init__(self, size: int, **kwargs):
        super().__init__(**kwargs)
        self.size = size

    def call(self, row):
        return keras.ops.reshape(row, (-1, self.size, self.size, 3))


class _StepReporter(keras.callbacks.Callback):
    def __init__(self, on_step: StepCallback):
        super().__init__()
        self.on_step = on_step

    def on_train_batch_end(self, batch, logs=None):
        self.on_step(batch + 1)


def dream_model(target: LayerTarget, filters: list[int], start: np.ndarray) -> tuple[keras.Model, keras.layers.Dense]:
    batch, size = len(filters), start.shape[1]
    unit = keras.Input(shape=(1,), name="constant_unit")
    dense = keras.layers.Dense(
        batch * size * size * 3,
        use_bias=False,
        kernel_initializer=keras.initializers.Constant(start.reshape(1, -1)),
        name="dream",
    )
    images = DreamImages(size, name="dream_images")(dense(unit))
    _, activations = target.model(images)
    # The penalty sits on the chosen layer's output; an identity layer carries it so that the
    # frozen model, shared with other jobs, is never modified.
    scored = keras.layers.Activation(
        "linear", activity_regularizer=FilterActivationRegulariser(filters), name="filter_objective"
    )(activations)
    return keras.Model(unit, scored, name="dream"), dense


def run_seed_method(target: LayerTarget, filters: list[int], params: FilledParams, on_step: StepCallback) -> tuple[np.ndarray, np.ndarray]:
    """Train the dream model; return (start, result) RGB images in [0, 1]."""
    noise = np.broadcast_to(starting_noise(params.seed, params.image_size), (len(filters), params.image_size, params.image_size, 3))
    start = target.preprocessing.to_input(tf.constant(noise)).numpy()
    model, dense = dream_model(target, filters, start)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=params.learning_rate), loss=None, jit_compile=False)
    constant_unit = tf.data.Dataset.from_tensors((np.ones((1, 1), np.float32),)).repeat()
    model.fit(constant_unit, epochs=1, steps_per_epoch=params.steps, verbose=0, shuffle=False, callbacks=[_StepReporter(on_step)])
    pixels = dense.kernel.numpy().reshape(start.shape)
    return noise, np.clip(target.preprocessing.to_rgb(pixels), 0.0, 1.0)
