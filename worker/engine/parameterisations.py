"""Parameterisations: the variables an optimisation changes, and how they become RGB images.

Each turns its variables into a batch of RGB images with values in [0, 1]. An image's starting
values depend only on the seed and its diversity index, never on its batch companions.
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
SPECTRUM_DECAY = 1.5  # fourier: free coefficients are weighted by 1/f^SPECTRUM_DECAY


def starting_noise(seed: int, size: int, index: int = 0) -> np.ndarray:
    """The RGB noise image pixel methods start from, (size, size, 3) in [0, 1]."""
    rng = np.random.default_rng([seed, size, index])
    return rng.uniform(0.5 - NOISE_SPREAD, 0.5 + NOISE_SPREAD, size=(size, size, 3)).astype(np.float32)


def stack(make, indices: list[int]) -> np.ndarray:
    return np.stack([make(index) for index in indices]).astype(np.float32)


class PixelImage:
    """Pixels optimised directly, kept inside [0, 1] after every step (`constrain`)."""

    def __init__(self, batch: int, size: int):
        self.variable = tf.Variable(tf.zeros((batch, size, size, 3)), name="pixels")

    @property
    def variables(self) -> list[tf.Variable]:
        return [self.variable]

    def reset(self, seed: int, indices: list[int]) -> None:
        self.variable.assign(stack(lambda index: starting_noise(seed, self.variable.shape[1], index), indices))

    def colour(self) -> tf.Tensor:
        """What becomes the image's colour (`squash`); its gradient is held back by `restoring`."""
        return self.variable

    def squash(self, colour: tf.Tensor) -> tf.Tensor:
        return colour

    def restoring(self, colour: tf.Tensor, gradient: tf.Tensor) -> tf.Tensor:
        """Nothing: pixels are clipped instead."""
        return tf.zeros_like(colour)

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
    return (np.maximum(frequency, 1.0 / size) ** -SPECTRUM_DECAY * size ** (2 - SPECTRUM_DECAY)).astype(np.float32)


# sigmoid(2.5) is 0.924 (236 of 255). Colour pushed further is saturation rather than detail: at 4
# (250 of 255) half of all values of vgg16-hed images sat within 10 of 0 or 255 (flat, posterised
# primaries), at 2.5 under 2 %, for the same robust activation at block1, block3 and block4.
SATURATION_BOUND = 2.5
# How far past the bound colour may go: the root mean square of the overshoot of an image whose
# logits all sit at the bound. Every image gets the same allowance, whatever its unit's strength.
# With a penalty in units of each image's own objective, the weakest of the units that share an
# optimum at the bound (vgg16-hed block1_conv2 filters 3, 7 and 15 all want the same pure green)
# went furthest past it and its image excited the others more than their own did.
OVERSHOOT_ALLOWANCE = 0.25


class Squashed:
    """A parameterisation whose images are in range by construction: a sigmoid of colour logits.

    Nothing is clipped, but Adam's steps keep their size however flat the sigmoid gets, so logits
    pushed on and on end as flat primary colours. `restoring` pulls logits past the sigmoid's useful
    range back, in proportion to how far they are past it and to the image's own gradient.
    """

    def logits(self) -> tf.Tensor:
        raise NotImplementedError

    def colour(self) -> tf.Tensor:
        return self.logits()

    def squash(self, colour: tf.Tensor) -> tf.Tensor:
        return tf.sigmoid(colour)

    def restoring(self, colour: tf.Tensor, gradient: tf.Tensor) -> tf.Tensor:
        """A loss gradient on the logits that balances `gradient` (the objective's) when each image's
        overshoot has the root mean square OVERSHOOT_ALLOWANCE: a penalty whose weight is the image's
        own gradient scale, so a strong unit is held back no less than a weak one."""
        scale = tf.sqrt(tf.reduce_mean(tf.square(gradient), axis=[1, 2, 3], keepdims=True) + 1e-30)
        past = tf.nn.relu(tf.abs(colour) - SATURATION_BOUND) * tf.sign(colour)
        return scale / OVERSHOOT_ALLOWANCE * past

    def __call__(self) -> tf.Tensor:
        return tf.sigmoid(self.logits())

    def constrain(self) -> None:
        pass


class FourierImage(Squashed):
    """Image = sigmoid(colour decorrelation of the inverse FFT of a 1/f-scaled free spectrum)."""

    def __init__(self, batch: int, size: int):
        self.size = size
        shape = (batch, 3, size, size // 2 + 1)
        self.real = tf.Variable(tf.zeros(shape), name="spectrum_real")
        self.imag = tf.Variable(tf.zeros(shape), name="spectrum_imag")
        self.scale = tf.constant(spectrum_scale(size))
        self.correlation = tf.constant(COLOUR_CORRELATION.T)

    @property
    def variables(self) -> list[tf.Variable]:
        return [self.real, self.imag]

    def reset(self, seed: int, indices: list[int]) -> None:
        """Start from a small random spectrum: a faint coloured noise around mid-grey."""
        shape = self.real.shape[1:]

        def spectrum(index: int) -> np.ndarray:
            return np.random.default_rng([seed, self.size, index, 0xF0]).normal(0, FOURIER_INIT_STD, (2, *shape))

        both = stack(spectrum, indices)
        self.real.assign(both[:, 0])
        self.imag.assign(both[:, 1])

    def logits(self) -> tf.Tensor:
        spectrum = tf.complex(self.real * self.scale, self.imag * self.scale)
        planes = tf.signal.irfft2d(spectrum, fft_length=[self.size, self.size]) / 4.0  # (B, 3, S, S)
        decorrelated = tf.transpose(planes, [0, 2, 3, 1])
        return tf.tensordot(decorrelated, self.correlation, axes=1)


# Amplitude spectra of natural photographs fall off as 1/f^alpha with alpha close to 1 (Field 1987;
# van der Schaaf & van Hateren 1996). `maco` fixes its magnitudes to this power law.
NATURAL_AMPLITUDE_EXPONENT = 1.0
MACO_CONTRAST = 2.0  # standard deviations of a plane before the sigmoid: a full, unclipped range


class MacoImage(Squashed):
    """Magnitude-constrained image: only the Fourier phase is free.

    The magnitude spectrum is fixed to a natural-image power law, so every image the optimiser
    can reach has natural second-order statistics; only where the structure goes (the phase) is
    learned. Planes are standardised, colour-decorrelated and squashed by a sigmoid as in `fourier`.
    """

    def __init__(self, batch: int, size: int):
        self.size = size
        self.phase = tf.Variable(tf.zeros((batch, 3, size, size // 2 + 1)), name="phase")
        fy = np.fft.fftfreq(size)[:, None]
        fx = np.fft.rfftfreq(size)[None, :]
        frequency = np.maximum(np.sqrt(fx * fx + fy * fy), 1.0 / size)
        self.magnitude = tf.constant((frequency ** -NATURAL_AMPLITUDE_EXPONENT).astype(np.float32))
        self.correlation = tf.constant(COLOUR_CORRELATION.T)

    @property
    def variables(self) -> list[tf.Variable]:
        return [self.phase]

    def reset(self, seed: int, indices: list[int]) -> None:
        shape = self.phase.shape[1:]
        self.phase.assign(stack(lambda i: np.random.default_rng([seed, self.size, i, 0x3A]).uniform(-np.pi, np.pi, shape),
                                indices))

    def logits(self) -> tf.Tensor:
        spectrum = tf.complex(self.magnitude * tf.cos(self.phase), self.magnitude * tf.sin(self.phase))
        planes = tf.signal.irfft2d(spectrum, fft_length=[self.size, self.size])  # (B, 3, S, S)
        mean, variance = tf.nn.moments(planes, axes=[2, 3], keepdims=True)
        standard = MACO_CONTRAST * (planes - mean) / tf.sqrt(variance + 1e-8)
        decorrelated = tf.transpose(standard, [0, 2, 3, 1])
        return tf.tensordot(decorrelated, self.correlation, axes=1)
