"""The batched gradient-ascent loop of the `fourier`, `pixel` and `maco` methods: an objective
and its added terms, on a parameterisation seen through robustness transforms.

One `GradientAscent` is compiled per (layer, method, objective, diversity, image size, batch size)
and kept on its `LayerTarget`, so later jobs of the same shape reuse the traced step instead of
tracing it again. Only the image variables get gradients; the model's weights are frozen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import keras
import numpy as np
import tensorflow as tf

from core.spec import FilledParams
from worker.engine import quality
from worker.engine.diversity import DiversityTerm
from worker.engine.objectives import OBJECTIVES, PROPER, WAKING, WARMUP
from worker.engine.snapshots import Snapshots
from worker.engine.target import LayerTarget
from worker.engine.transforms import Robustness, identity_affines, random_affines, resample

WARMUP_FRACTION = 0.1  # share of the steps spent on the pre-activation objective
# The step falls along a half cosine to this share of its start: early steps find the feature fast,
# late ones refine it instead of pushing colours into saturation (at block1-3 of vgg16-hed the
# median clipped share falls from 6-7 % to 2-3 %).
FINAL_STEP_SHARE = 0.3
# Steps seen without transforms, for images whose unit is still silent on the final image: a unit
# that fires weakly at a few positions is easily lost to jitter (block2_conv2 filters 4 and 7 of
# vgg16-hed, which a direct probe wakes, end silent for some seeds; without transforms they fire).
POLISH_STEPS = 16
# Rounds of them while some image is still silent: at block2_conv2, `maco` left filter 7 silent
# after one round at the last step's learning rate (a few positions, 0.01 once it fires).
POLISH_ROUNDS = 3

StepCallback = Callable[[int], None]


@dataclass
class BatchResult:
    start: np.ndarray  # (batch, size, size, 3) RGB in [0, 1]
    final: np.ndarray
    curves: np.ndarray  # (batch, steps): the objective's quantity at every step (seen through that step's transform)
    snapshots: Snapshots


def batch_layout(units: list[int | None], diversity: int) -> tuple[list[int], list[int]]:
    """Unit and diversity index of every image: the `diversity` images of a unit sit together."""
    per_image = [0 if unit is None else unit for unit in units for _ in range(diversity)]
    indices = [index for _ in units for index in range(diversity)]
    return per_image, indices


def step_share(step: int, steps: int) -> float:
    """The share of the learning rate used at `step`: 1 at the start, FINAL_STEP_SHARE at the end."""
    return FINAL_STEP_SHARE + (1.0 - FINAL_STEP_SHARE) * 0.5 * (1.0 + math.cos(math.pi * step / max(1, steps - 1)))


class GradientAscent:
    def __init__(self, target: LayerTarget, params: FilledParams, batch: int, parameterisation: type,
                 robustness: Robustness):
        self.target = target
        self.objective = OBJECTIVES[params.objective]
        self.terms = [DiversityTerm(params.diversity)] if params.diversity > 1 else []
        self.image = parameterisation(batch, params.image_size)
        self.robustness = robustness
        self.units = tf.Variable(tf.zeros((batch,), tf.int32), trainable=False, name="units")
        self.optimizer = keras.optimizers.Adam(learning_rate=0.01)
        self.optimizer.build(self.image.variables)
        self._step = tf.function(self._ascend, jit_compile=False)

    @classmethod
    def for_target(cls, target: LayerTarget, params: FilledParams, batch: int, parameterisation: type,
                   robustness: Robustness) -> GradientAscent:
        key = (params.method, params.objective, params.diversity, params.image_size, batch)
        return target.cached(key, lambda: cls(target, params, batch, parameterisation, robustness))

    def reset(self, units: list[int | None], params: FilledParams) -> None:
        per_image, indices = batch_layout(units, params.diversity)
        self.image.reset(params.seed, indices)
        self.units.assign(np.asarray(per_image, np.int32))
        for variable in self.optimizer.variables:
            variable.assign(tf.zeros_like(variable))
        self.optimizer.learning_rate = params.learning_rate

    def images(self) -> np.ndarray:
        return self.image().numpy()

    def run(self, units: list[int | None], params: FilledParams, on_step: StepCallback) -> BatchResult:
        """Optimise one batch from its seed."""
        self.reset(units, params)
        start = self.images()
        size, steps = params.image_size, params.steps
        affines = random_affines(params.seed, steps, size, self.robustness) if params.transforms else identity_affines(steps)
        warmup_steps = int(steps * WARMUP_FRACTION)
        snapshots = Snapshots(steps, size)
        snapshots.take(0, start)
        scores = []
        for step in range(steps):
            self.optimizer.learning_rate = params.learning_rate * step_share(step, steps)
            phase = tf.constant(WARMUP if step < warmup_steps else PROPER)
            scores.append(self._step(tf.constant(affines[step]), phase))
            if snapshots.due(step + 1):
                snapshots.take(step + 1, self.image())
            on_step(step + 1)
        self.wake_the_silent(params)
        curves = tf.stack(scores, axis=1).numpy()
        return BatchResult(start, self.images(), curves, snapshots)

    def wake_the_silent(self, params: FilledParams) -> None:
        """Up to POLISH_ROUNDS of POLISH_STEPS more steps at the full learning rate, without
        transforms, pushing every unit's strongest positions (a unit that fired for a step and went
        back to its mean was lost again). Each round is kept only for the images whose unit does
        not fire on the 8-bit image: each image's result still depends on nothing but its own unit."""
        if getattr(self.objective, "wake", None) is None:
            return
        identity, waking = tf.constant(identity_affines(1)[0]), tf.constant(WAKING)
        self.optimizer.learning_rate = params.learning_rate
        for _ in range(POLISH_ROUNDS):
            shown = tf.constant(np.round(self.images() * 255.0) / 255.0, tf.float32)
            silent = ~quality.fires(self.target, shown, self.units, params.objective)
            if not silent.any():
                return
            before = [variable.numpy() for variable in self.image.variables]
            for _ in range(POLISH_STEPS):
                self._step(identity, waking)
            for variable, kept in zip(self.image.variables, before):
                chosen = silent.reshape((-1,) + (1,) * (kept.ndim - 1))
                variable.assign(np.where(chosen, variable.numpy(), kept))

    def _ascend(self, affine: tf.Tensor, phase: tf.Tensor) -> tf.Tensor:
        variables = self.image.variables
        with tf.GradientTape() as parameterisation:
            colour = self.image.colour()
        with tf.GradientTape() as tape:
            tape.watch(colour)
            pre, post = self.target.activations(resample(self.image.squash(colour), affine))
            objective = self.objective.score(pre, post, self.units, phase)
            loss = -objective
            for term in self.terms:
                loss += term(objective, post)
            # A sum, not a mean: each image's gradient stays the same whatever the batch size.
            loss = tf.reduce_sum(loss)
        # The colour's gradient first, to weigh the pull back into range against it; then on
        # through the parameterisation alone (an inverse FFT, not the network again).
        towards_objective = tape.gradient(loss, colour)
        on_colour = towards_objective + self.image.restoring(colour, towards_objective)
        gradients = parameterisation.gradient(colour, variables, output_gradients=on_colour)
        self.optimizer.apply_gradients(zip(gradients, variables))
        self.image.constrain()
        return self.objective.reported(pre, post, self.units)
