"""Parameterisations: the variables an optimisation changes, and how they become RGB images.

Each turns its variables into a batch of RGB images with values in [0, 1]. Every image of a batch
starts from the same values for a given seed, so an image does not depend on its batch companions.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

# Square root of the colour covariance of natural (ImageNet) photographs, as published with the
# Lucid library: optimising in this decorrelated space moves luminance and colour independently.
COLOUR_CORRELATION_SQRT = np.array(
    [[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]], dtype=np.float32
)
COLOUR_CORRELATION = COLOUR_CORRELATION_SQRT / np.max(np.linalg.norm(COLOUR_CORRELATION_SQRT, axis=0))

NOISE_SPREAD = 0.1  # starting pixels are uniform in 0.5 ± this
FOURIER_INIT_STD = 0.01


def starting_noise(seed: int, size: int) -> np.ndarray:
    """The RGB noise image every method starts from, (size, size, 3) in [0, 1]."""
    rng = np.random.default_rng([seed, size])
    return rng.uniform(0.5 - NOISE_SPREAD, 0.5 + NOISE_SPREAD, size=(size, size, 3)).astype(np.float32)


class PixelImage:
    """Pixels optimised directly, kept inside [0, 1] after every step."""

    def __init__(self, batch: int, size: int):
        self.variable = tf.Variable(tf.zeros((batch, size, size, 3)), name="pixels")

    @property
    def variables(self) -> list[tf.Variable]:
        return [self.variable]

    def reset(self, seed: int) -> None:
        start = starting_noise(seed, self.variable.shape[1])
        self.variable.assign(np.broadcast_to(start, self.variable.shape))

    def __call__(self) -> tf.Tensor:
        return self.variable

    def constrain(self) -> None:
        self.variable.assign(tf.clip_by_value(self.variable, 0.0, 1.0))


def spectrum_scale(size: int) -> np.ndarray:
    """1/f weights for the real 2-D spectrum of a size x size image.

    Natural images have about 1/f amplitude; weighting the free coefficients so makes equal steps
    in every frequency produce a natural-looking change, which is what speeds convergence.
    """
    fy = np.fft.fftfreq(size)[:, None]
    fx = np.fft.rfftfreq(size)[None, :]
    frequency = np.sqrt(fx * fx + fy * fy)
    return (1.0 / np.maximum(frequency, 1.0 / size) * size).astype(np.float32)


class FourierImage:
    """Image = sigmoid(colour decorrelation of the inverse FFT of a 1/f-scaled free spectrum)."""

    def __init__(self, batch: int, size: int):
        self.size = size
        shape = (batch, 3, size, size // 2 + 1)
        self.real = tf.Variable(tf.zeros(shape), name="spectrum_real")
        self.imag = tf.Variable(tf.zeros(shape), name="spectrum_imag")
        self.scale = tf.constant(spectrum_scale(size))
        self.colour = tf.constant(COLOUR_CORRELATION.T)

    @property
    def variables(self) -> list[tf.Variable]:
        return [self.real, self.imag]

    def reset(self, seed: int) -> None:
        """Start from a small random spectrum: a faint coloured noise around mid-grey."""
        rng = np.random.default_rng([seed, self.size, 0xF0])
        shape = self.real.shape
        self.real.assign(np.broadcast_to(rng.normal(0, FOURIER_INIT_STD, shape[1:]), shape).astype(np.float32))
        self.imag.assign(np.broadcast_to(rng.normal(0, FOURIER_INIT_STD, shape[1:]), shape).astype(np.float32))

    def __call__(self) -> tf.Tensor:
        spectrum = tf.complex(self.real * self.scale, self.imag * self.scale)
        planes = tf.signal.irfft2d(spectrum, fft_length=[self.size, self.size]) / 4.0  # (B, 3, S, S)
        decorrelated = tf.transpose(planes, [0, 2, 3, 1])
        return tf.sigmoid(tf.tensordot(decorrelated, self.colour, axes=1))
