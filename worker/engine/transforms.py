"""Transformation robustness: every step sees the image slightly shifted, scaled and rotated.

An image that keeps its activation under such changes shows a real feature rather than a
high-frequency pattern tuned to one pixel grid. Pad, jitter, scale and rotate are folded into one
affine resampling with reflected borders, so a step costs one gather, not four.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import tensorflow as tf


@dataclass(frozen=True)
class Robustness:
    """How far each step's view of the image may move. A scale above 1 zooms in: a random crop."""

    scale: tuple[float, float] = (0.9, 1.1)
    max_rotation_degrees: float = 10.0
    jitter_fraction: float = 1 / 16  # of the image size: 8 pixels at 128


STANDARD = Robustness()
# `maco` looks at random crops of 70-100 % of the image every step.
RANDOM_CROPS = Robustness(scale=(1.0, 1 / 0.7), max_rotation_degrees=5.0, jitter_fraction=1 / 16)


def random_affines(seed: int, steps: int, size: int, robustness: Robustness = STANDARD) -> np.ndarray:
    """One transform per step as the 8 projective coefficients that map output to input pixels.

    They depend only on the seed and the step, not on the batch, so an image comes out the same
    whichever filters share its batch.
    """
    rng = np.random.default_rng([seed, size, 0x7A])
    jitter = max(1.0, size * robustness.jitter_fraction)
    shift = rng.uniform(-jitter, jitter, size=(steps, 2))
    scale = rng.uniform(*robustness.scale, size=steps)
    limit = robustness.max_rotation_degrees
    angle = np.radians(rng.uniform(-limit, limit, size=steps))
    centre = (size - 1) / 2.0
    out = np.zeros((steps, 8), dtype=np.float32)
    for i in range(steps):
        cos, sin = math.cos(angle[i]) / scale[i], math.sin(angle[i]) / scale[i]
        # input = A @ (output - centre) + centre + shift
        out[i, 0], out[i, 1] = cos, -sin
        out[i, 3], out[i, 4] = sin, cos
        out[i, 2] = centre - cos * centre + sin * centre + shift[i, 0]
        out[i, 5] = centre - sin * centre - cos * centre + shift[i, 1]
    return out


def identity_affines(steps: int) -> np.ndarray:
    out = np.zeros((steps, 8), dtype=np.float32)
    out[:, 0] = out[:, 4] = 1.0
    return out


def resample(images: tf.Tensor, affine: tf.Tensor) -> tf.Tensor:
    """Apply one affine transform to every image of the batch, reflecting at the borders."""
    batch = tf.shape(images)[0]
    size = tf.shape(images)[1:3]
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=tf.tile(affine[None, :], [batch, 1]),
        output_shape=size,
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="REFLECT",
    )
