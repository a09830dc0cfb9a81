"""Diversity: a term added to the loss that pushes the images of one unit apart."""

from __future__ import annotations

from dataclasses import dataclass

import tensorflow as tf

# Weight of the penalty against the objective: each image loses this share of its own objective's
# size for every unit of mean Gram similarity to its siblings.
DIVERSITY_WEIGHT = 0.5


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


@dataclass(frozen=True)
class DiversityTerm:
    """Penalty per image: its Gram similarity to its siblings, scaled to its own objective's size
    so that the term neither vanishes nor dominates whatever the layer's scale."""

    group: int
    weight: float = DIVERSITY_WEIGHT

    def __call__(self, objective: tf.Tensor, post: tf.Tensor) -> tf.Tensor:
        return self.weight * tf.stop_gradient(tf.abs(objective) + 1e-3) * gram_similarity(post, self.group)
