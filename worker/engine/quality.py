"""Measures of a finished 8-bit image: does its unit fire, does the activation survive small
shifts and rescalings, how much of it is high-frequency noise, how much colour is clipped."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from core.quality import ImageQuality
from core.spec import Objective
from worker.engine.objectives import OBJECTIVES, unit_map
from worker.engine.target import LayerTarget
from worker.engine.transforms import resample

VIEWS = 8  # shifted and rescaled views averaged for the robust activation
VIEW_SEED = 1234  # the same views for every image and method, so figures compare


def fixed_views(size: int, views: int = VIEWS) -> np.ndarray:
    """Affine coefficients of `views` fixed small shifts (up to size/32) and rescalings (0.9-1.1)."""
    rng = np.random.default_rng(VIEW_SEED)
    centre = (size - 1) / 2.0
    reach = max(1.0, size / 32)
    out = []
    for _ in range(views):
        scale = rng.uniform(0.9, 1.1)
        dx, dy = rng.uniform(-reach, reach, 2)
        out.append([1 / scale, 0, centre - centre / scale + dx, 0, 1 / scale, centre - centre / scale + dy, 0, 0])
    return np.asarray(out, np.float32)


def robust_activation(target: LayerTarget, rgb: tf.Tensor, units: tf.Tensor, objective: Objective) -> np.ndarray:
    """The objective's reported quantity of each image, averaged over the fixed views."""
    values = []
    for affine in fixed_views(int(rgb.shape[1])):
        pre, post = target.activations(resample(rgb, tf.constant(affine)))
        values.append(OBJECTIVES[objective].reported(pre, post, units).numpy())
    return np.mean(values, axis=0)


def fires(target: LayerTarget, rgb: tf.Tensor, units: tf.Tensor, objective: Objective) -> np.ndarray:
    """Whether each image's unit (the whole layer for `layer`) is above zero anywhere."""
    _, post = target.activations(rgb)
    own = post if objective == Objective.layer else unit_map(post, units)
    flat = tf.reshape(own, [tf.shape(own)[0], -1])
    return (tf.reduce_max(flat, axis=1) > 0.0).numpy()


# Variance, in 8-bit levels squared, that rounding to 8 bits adds to the grey of three channels:
# white noise, so mostly above half the Nyquist frequency, and all there is in a flat image.
ROUNDING_VARIANCE = 1 / 12 / 3


def high_frequency_share(pixels: np.ndarray) -> np.ndarray:
    """Per image: spectral energy (DC excluded) above half the Nyquist frequency, as a share, net of
    what 8-bit rounding adds. A flat colour has no energy but that rounding: it scores 0, not the
    white-noise share (0.8) its rounding alone would give."""
    grey = pixels.astype(np.float64).mean(axis=-1)
    grey -= grey.mean(axis=(1, 2), keepdims=True)
    power = np.abs(np.fft.fft2(grey)) ** 2
    frequency = np.fft.fftfreq(pixels.shape[1])
    high = np.sqrt(frequency[:, None] ** 2 + frequency[None, :] ** 2) > 0.25
    per_bin = grey[0].size * ROUNDING_VARIANCE  # rounding's expected power in each frequency bin
    signal_high = np.maximum(power[:, high].sum(axis=1) - high.sum() * per_bin, 0.0)
    signal = power.sum(axis=(1, 2)) - high.size * per_bin
    return np.minimum(signal_high / np.maximum(signal, high.size * per_bin), 1.0)


def clipped_share(pixels: np.ndarray) -> np.ndarray:
    return ((pixels == 0) | (pixels == 255)).mean(axis=(1, 2, 3))


def assess(target: LayerTarget, pixels: np.ndarray, units: list[int], objective: Objective) -> list[ImageQuality]:
    """The quality of each 8-bit image (batch, size, size, 3) for its unit."""
    rgb = tf.constant(pixels.astype(np.float32) / 255.0)
    unit_indices = tf.constant(units, tf.int32)
    alive = fires(target, rgb, unit_indices, objective)
    robust = robust_activation(target, rgb, unit_indices, objective)
    high, clipped = high_frequency_share(pixels), clipped_share(pixels)
    return [ImageQuality(alive=bool(alive[i]), robust_activation=round(float(robust[i]), 4),
                         high_frequency_share=round(float(high[i]), 4), clipped_share=round(float(clipped[i]), 4))
            for i in range(len(units))]
