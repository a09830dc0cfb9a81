"""Objectives: what an optimisation pushes up, as one score per image of the batch.

Each objective reads the target layer's output before its activation function (`pre`) and after
it (`post`), plus one unit index per image. Scores are what is maximised; `negative` maximises
minus the channel mean, i.e. finds what suppresses the filter.
"""

from __future__ import annotations

import tensorflow as tf

from service.visualizations.schemas import Objective


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


def mean_square(activations: tf.Tensor, units: tf.Tensor) -> tf.Tensor:
    """DeepDream: the whole layer's mean squared activation; the unit index is ignored."""
    return tf.reduce_mean(tf.square(activations), axis=list(range(1, activations.shape.rank)))


def quantity(objective: Objective, activations: tf.Tensor, units: tf.Tensor) -> tf.Tensor:
    """The quantity an objective is about, as reported to users (`negative` reports the channel
    mean it pushed down, not its negation)."""
    if objective is Objective.neuron:
        return centre_unit(activations, units)
    if objective is Objective.layer:
        return mean_square(activations, units)
    return channel_mean(activations, units)


def score(objective: Objective, pre: tf.Tensor, post: tf.Tensor, units: tf.Tensor, warmup: tf.Tensor) -> tf.Tensor:
    """What the optimiser maximises.

    While `warmup` is 1, and afterwards for any image whose unit is still zero everywhere, the unit
    objectives are taken before the activation function: a unit that is zero after its ReLU on the
    starting noise has no gradient there, its pre-activation always has one. `logit` always reads the pre-activation (a softmax output is
    treated as its logits); `layer` reads the activations themselves.
    """
    if objective is Objective.logit:
        return unit_map(pre, units) if pre.shape.rank == 2 else channel_mean(pre, units)
    if objective is Objective.layer:
        return mean_square(post, units)
    sign = -1.0 if objective is Objective.negative else 1.0
    warm = quantity(objective, pre, units)
    cold = quantity(objective, post, units)
    # An image whose unit is still dead (zero after the activation) keeps the pre-activation
    # objective after the warm-up too, until it wakes.
    dead = tf.cast(cold <= 0.0, cold.dtype)
    use_pre = tf.maximum(warmup, dead)
    return sign * (use_pre * warm + (1.0 - use_pre) * cold)


def reported(objective: Objective, pre: tf.Tensor, post: tf.Tensor, units: tf.Tensor) -> tf.Tensor:
    """The quantity users see in `activation` and `curve`: of the activations, or of the logits."""
    return quantity(objective, pre if objective is Objective.logit else post, units)


def gram_similarity(activations: tf.Tensor, group: int) -> tf.Tensor:
    """For each image, the mean cosine similarity of its feature statistics to the other images
    of its group (consecutive runs of `group` images). Feature maps are compared by their Gram
    matrices (which features co-occur, wherever they are); vectors are compared directly."""
    if activations.shape.rank == 4:
        flat = tf.reshape(activations, [tf.shape(activations)[0], -1, activations.shape[-1]])
        features = tf.linalg.matmul(flat, flat, transpose_a=True)
    else:
        features = activations
    features = tf.math.l2_normalize(tf.reshape(features, [tf.shape(activations)[0], -1]), axis=1)
    grouped = tf.reshape(features, [-1, group, features.shape[-1]])
    similarity = tf.linalg.matmul(grouped, grouped, transpose_b=True)  # (groups, group, group)
    others = tf.reduce_sum(similarity, axis=2) - tf.linalg.diag_part(similarity)
    return tf.reshape(others / max(group - 1, 1), [-1])
