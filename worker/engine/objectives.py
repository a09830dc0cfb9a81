"""Objectives: what an optimisation pushes up, as one value per image of the batch."""

from __future__ import annotations

import tensorflow as tf


def channel_mean(activations: tf.Tensor, filters: tf.Tensor) -> tf.Tensor:
    """Mean over the feature map of each image's own channel.

    activations: (batch, height, width, channels); filters: (batch,) int32, one channel per image.
    """
    own_channel = tf.gather(activations, filters, axis=3, batch_dims=1)
    return tf.reduce_mean(own_channel, axis=[1, 2])


def warmed_channel_mean(pre: tf.Tensor, post: tf.Tensor, filters: tf.Tensor, warmup: tf.Tensor) -> tf.Tensor:
    """The channel mean, taken before the activation function while `warmup` is 1.

    A unit that is zero after its ReLU everywhere on the starting noise has no gradient; its
    pre-activation always has one, so a few warm-up steps on it wake such units up.
    """
    return warmup * channel_mean(pre, filters) + (1.0 - warmup) * channel_mean(post, filters)
