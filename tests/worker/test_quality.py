"""The numbers every image reports about itself, on images whose answer is known."""

from __future__ import annotations

import numpy as np

from worker.engine.quality import clipped_share, high_frequency_share


def as_8bit(values: np.ndarray) -> np.ndarray:
    return np.clip(np.round(values), 0, 255).astype(np.uint8)


def stripes(period: float, size: int = 96) -> np.ndarray:
    wave = 127.5 + 100 * np.sin(2 * np.pi * np.arange(size) / period)
    return as_8bit(np.broadcast_to(wave[None, :, None, None], (1, size, size, 3)))


def test_a_flat_colour_has_no_high_frequency_energy_beyond_its_rounding():
    # A uniform green as a colour unit's picture: all its variation is 8-bit rounding, white noise
    # that would otherwise count as 80 % high-frequency.
    rng = np.random.default_rng(3)
    flat = as_8bit(np.array([16.0, 241.0, 17.0]) + rng.uniform(-0.5, 0.5, (1, 96, 96, 3)))
    assert high_frequency_share(flat)[0] == 0.0


def test_pixel_noise_is_high_frequency_and_broad_stripes_are_not():
    noise = as_8bit(np.random.default_rng(4).uniform(0, 255, (1, 96, 96, 3)))
    assert 0.7 < high_frequency_share(noise)[0] <= 1.0
    assert high_frequency_share(stripes(period=24))[0] < 0.01
    assert high_frequency_share(stripes(period=2.5))[0] > 0.9


def test_clipped_share_counts_the_values_at_0_or_255():
    image = np.full((1, 4, 4, 3), 128, np.uint8)
    image[0, 0, :, 0] = 255
    image[0, 1, :2, 2] = 0
    assert clipped_share(image)[0] == 6 / 48
