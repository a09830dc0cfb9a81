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

from core.spec import FilledParams, Objective
from worker.engine.objectives import OBJECTIVES, PROPER
from worker.engine.optimize import BatchResult, StepCallback
from worker.engine.parameterisations import starting_noise
from worker.engine.snapshots import Snapshots
from worker.engine.target import LayerTarget


class FilterActivationRegulariser(keras.regularizers.Regularizer):
    """Penalty = minus each image's objective on its own filter (its mean activation by default).

    It sits on the chosen layer's output before its activation function and applies that function
    itself, so that a unit silent after its ReLU still has a gradient: its strongest positions, as
    in the other methods (at block2_conv2 of vgg16-hed, 96 px, 8 of 8 filters fire instead of 3).
    The filters sit in a variable so that a compiled dream model can be reused for other filters;
    each step's per-image objective is kept in another.
    """

    def __init__(self, batch: int, objective: Objective, activation):
        self.objective = OBJECTIVES[objective]
        self.activation = keras.activations.get(activation)
        self.filters = tf.Variable(tf.zeros((batch,), tf.int32), trainable=False, name="dream_filters")
        self.last = tf.Variable(tf.zeros((batch,)), trainable=False, name="dream_objective")

    def __call__(self, pre):
        post = self.activation(pre)
        self.last.assign(self.objective.reported(pre, post, self.filters))
        score = self.objective.score(pre, post, self.filters, tf.constant(PROPER))
        # Keras divides activity penalties by the batch size; undo it so that every image gets
        # the gradient of its own objective, however many images share the batch.
        batch = tf.cast(tf.shape(pre)[0], pre.dtype)
        return -tf.reduce_sum(score) * batch


class DreamImages(keras.layers.Layer):
    """Reshape the Dense layer's single output row into a batch of images."""

    def __init__(self, size: int, **kwargs):
        super().__init__(**kwargs)
        self.size = size

    def call(self, row):
        return keras.ops.reshape(row, (-1, self.size, self.size, 3))


class _StepReporter(keras.callbacks.Callback):
    """Reports progress and records each step's objective and the snapshots."""

    def __init__(self, dream: DreamModel):
        super().__init__()
        self.dream = dream
        self.on_step: StepCallback = lambda step: None
        self.curves: list[np.ndarray] = []
        self.snapshots: Snapshots | None = None

    def on_train_batch_end(self, batch, logs=None):
        self.curves.append(self.dream.regulariser.last.numpy())
        if self.snapshots.due(batch + 1):
            self.snapshots.take(batch + 1, self.dream.rgb())
        self.on_step(batch + 1)


class DreamModel:
    """Dense(constant unit) → images → frozen CNN → regularised layer, compiled with SGD.

    Built once per (layer, batch, size) and kept on the `LayerTarget`: later jobs only assign new
    starting pixels, filters and learning rate, so neither the model nor its train step is built
    again, and the shared CNN gains no new graph nodes per job.
    """

    def __init__(self, target: LayerTarget, batch: int, size: int, objective: Objective):
        self.target = target
        self.shape = (batch, size, size, 3)
        unit = keras.Input(shape=(1,), name="constant_unit")
        self.dense = keras.layers.Dense(batch * size * size * 3, use_bias=False, name="dream")
        images = DreamImages(size, name="dream_images")(self.dense(unit))
        pre = target.model(images)
        self.regulariser = FilterActivationRegulariser(batch, objective, target.activation)
        # The frozen model ends before the chosen layer's activation function: the penalty sits on
        # its output there (and applies the activation itself), so the model shared with other jobs
        # is never modified.
        scored = keras.layers.Identity(activity_regularizer=self.regulariser, name="filter_objective")(pre)
        self.model = keras.Model(unit, keras.layers.Activation(target.activation)(scored), name="dream")
        self.optimizer = keras.optimizers.SGD(learning_rate=1.0)
        self.model.compile(optimizer=self.optimizer, loss=None, jit_compile=False)
        self.reporter = _StepReporter(self)

    @classmethod
    def for_target(cls, target: LayerTarget, params: FilledParams, batch: int) -> DreamModel:
        key = ("seed", params.objective, params.image_size, batch)
        return target.cached(key, lambda: cls(target, batch, params.image_size, params.objective))

    def rgb(self) -> np.ndarray:
        pixels = self.dense.kernel.numpy().reshape(self.shape)
        return np.clip(self.target.preprocessing.to_rgb(pixels), 0.0, 1.0)

    def train(self, start: np.ndarray, filters: list[int], params: FilledParams, on_step: StepCallback) -> BatchResult:
        self.dense.kernel.assign(start.reshape(1, -1))
        self.regulariser.filters.assign(np.asarray(filters, np.int32))
        self.optimizer.learning_rate = params.learning_rate
        self.reporter.on_step = on_step
        self.reporter.curves = []
        self.reporter.snapshots = Snapshots(params.steps, params.image_size)
        first = self.rgb()
        self.reporter.snapshots.take(0, first)
        # One epoch of `steps` batches of the single constant unit: one SGD step per batch.
        constant_unit = np.ones((params.steps, 1), np.float32)
        self.model.fit(constant_unit, batch_size=1, epochs=1, verbose=0, shuffle=False, callbacks=[self.reporter])
        return BatchResult(first, self.rgb(), np.stack(self.reporter.curves, axis=1), self.reporter.snapshots)


def run_seed_method(target: LayerTarget, units: list[int | None], params: FilledParams, on_step: StepCallback) -> BatchResult:
    """Train the dream model from the seed's noise."""
    size = params.image_size
    noise = np.broadcast_to(starting_noise(params.seed, size), (len(units), size, size, 3))
    start = target.preprocessing.to_input(tf.constant(noise)).numpy()
    filters = [0 if unit is None else unit for unit in units]
    return DreamModel.for_target(target, params, len(units)).train(start, filters, params, on_step)
