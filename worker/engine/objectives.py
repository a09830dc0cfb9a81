"""Objectives: what an optimisation pushes up, as one score per image of the batch.

Each objective is a small object. It reads the target layer's output before its activation
function (`pre`) and after it (`post`), plus one unit index per image; `score` is what is
maximised, `reported` the quantity users see in `activation` and `curve`. `OBJECTIVES` maps the
request's objective to its object.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import tensorflow as tf

from core.spec import Objective


def unit_map(activations: tf.Tensor, units: tf.Tensor) -> tf.Tensor:
    """Each image's own channel: (batch, height, width) for feature maps, (batch,) for vectors."""
    return tf.gather(activations, units, axis=activations.shape.rank - 1, batch_dims=1)


def channel_mean(activations: tf.Tensor, units: tf.Tensor) -> tf.Tensor:
    own = unit_map(activations, units)
    return tf.reduce_mean(own, axis=list(range(1, own.shape.rank))) if own.shape.rank > 1 else own


def centre_unit(activations: tf.Tensor, units: tf.Tensor) -> tf.Tensor:
    own = unit_map(activations, units)
    if own.shape.rank == 1:
        return own
    height, width = tf.shape(own)[1], tf.shape(own)[2]
    return own[:, height // 2, width // 2]


WAKE_SHARE = 64  # a silent unit is woken by its strongest 1/64 of positions


def strongest_positions(activations: tf.Tensor, units: tf.Tensor) -> tf.Tensor:
    """The mean of each image's own unit over its strongest positions. A silent unit's mean
    pre-activation is dragged down by every position; its strongest positions are the ones about
    to fire, and pushing them gets it firing sooner."""
    own = unit_map(activations, units)
    if own.shape.rank == 1:
        return own
    flat = tf.reshape(own, [tf.shape(own)[0], -1])
    k = max(1, int(own.shape[1] or 1) * int(own.shape[2] or 1) // WAKE_SHARE)
    return tf.reduce_mean(tf.math.top_k(flat, k=k).values, axis=1)


def mean_square(activations: tf.Tensor, units: tf.Tensor) -> tf.Tensor:
    """DeepDream: the whole layer's mean squared activation; the unit index is ignored."""
    return tf.reduce_mean(tf.square(activations), axis=list(range(1, activations.shape.rank)))


Quantity = Callable[[tf.Tensor, tf.Tensor], tf.Tensor]

# What `score` is asked for, as a float tensor (a traced step takes it as an input):
PROPER = 0.0  # the objective itself; an image whose unit is still silent is pushed by its wake quantity
WARMUP = 1.0  # the objective before the activation function
WAKING = 2.0  # every image pushed by its wake quantity, as if its unit were silent

# How strongly the silent positions of a unit are pushed, as a power of the share of its map that
# fires. A unit firing almost everywhere is a colour or texture field whose silent patches are holes
# left by the starting noise (vgg16-hed block1_conv2 filter 3: a uniform green with a magenta patch
# where the ReLU passes no gradient, 763 against 968 once filled); a unit firing at a third of its
# map is an edge, and its silent positions are part of its pattern (0.27 ** 4 is 0.005).
HOLE_FILLING_POWER = 4


def hole_filling(pre: tf.Tensor, units: tf.Tensor) -> tf.Tensor:
    """Zero in value; in gradient, the pre-activation of each image's own unit at its silent
    positions, weighted by HOLE_FILLING_POWER of the share of positions that fire."""
    own = unit_map(pre, units)
    if own.shape.rank == 1:
        return tf.zeros_like(own)
    silent = tf.cast(own <= 0.0, own.dtype)
    firing_share = 1.0 - tf.reduce_mean(silent, axis=[1, 2])
    pushed = tf.reduce_mean(silent * (own - tf.stop_gradient(own)), axis=[1, 2])
    return tf.stop_gradient(firing_share ** HOLE_FILLING_POWER) * pushed


@dataclass(frozen=True)
class UnitObjective:
    """A quantity of each image's own unit, pushed up (`direction` 1) or down (-1).

    During WARMUP, and afterwards for any image whose unit is still zero everywhere, the
    quantity is taken before the activation function: a unit that is zero after its ReLU on the
    starting noise has no gradient there, its pre-activation always has one. A unit still silent is
    pushed by `wake` instead, where given (its strongest positions). With `fill_holes`, a unit that
    fires over most of its map is also pushed where it is silent (`hole_filling`). `negative`
    pushes and reports the pre-activation: below zero a ReLU's output says nothing.
    """

    quantity: Quantity
    direction: float = 1.0
    wake: Quantity | None = None
    before_activation: bool = False
    fill_holes: bool = False

    def score(self, pre: tf.Tensor, post: tf.Tensor, units: tf.Tensor, phase: tf.Tensor) -> tf.Tensor:
        if self.before_activation:
            return self.direction * self.quantity(pre, units)
        cold = self.quantity(post, units)
        if self.fill_holes:
            cold += hole_filling(pre, units)  # a gradient only: the value is unchanged
        # An image whose unit is still dead (zero after the activation) is pushed by its wake
        # quantity, also after the warm-up, until it fires; the others by the quantity itself.
        dead = tf.maximum(tf.cast(cold <= 0.0, cold.dtype), tf.cast(phase >= WAKING, cold.dtype))
        warm = self.quantity(pre, units)
        if self.wake is not None:
            warm = dead * self.wake(pre, units) + (1.0 - dead) * warm
        use_pre = tf.minimum(tf.maximum(phase, dead), 1.0)
        return self.direction * (use_pre * warm + (1.0 - use_pre) * cold)

    def reported(self, pre: tf.Tensor, post: tf.Tensor, units: tf.Tensor) -> tf.Tensor:
        """`negative` reports the mean it pushed down, not its negation."""
        return self.quantity(pre if self.before_activation else post, units)


@dataclass(frozen=True)
class WholeObjective:
    """A quantity read on one side of the activation function, with no warm-up: the whole layer's
    activations (DeepDream), or a class's value before its activation (a softmax output is treated
    as its logits)."""

    quantity: Quantity
    before_activation: bool = False
    direction: float = 1.0

    def score(self, pre: tf.Tensor, post: tf.Tensor, units: tf.Tensor, phase: tf.Tensor) -> tf.Tensor:
        return self.reported(pre, post, units)

    def reported(self, pre: tf.Tensor, post: tf.Tensor, units: tf.Tensor) -> tf.Tensor:
        return self.quantity(pre if self.before_activation else post, units)


OBJECTIVES = {
    Objective.channel: UnitObjective(channel_mean, wake=strongest_positions, fill_holes=True),
    Objective.neuron: UnitObjective(centre_unit),
    Objective.negative: UnitObjective(channel_mean, direction=-1.0, before_activation=True),
    Objective.layer: WholeObjective(mean_square),
    Objective.logit: WholeObjective(channel_mean, before_activation=True),
}
