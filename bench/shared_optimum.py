"""Whether units of one layer share their optimum, found without the engine.

    python bench/shared_optimum.py [--layer block1_conv2] [--filters 3,7,15]

Two probes, both inside the colour range the engine's images keep to (sigmoid of +-2.5 per
channel, 19 to 236 of 255):
- every uniform colour of a 9 x 9 x 9 grid: which one each unit likes best, and how much;
- raw pixels pushed by Adam for 400 steps at 32 px, clipped to that range, from the best uniform
  colour plus a little noise and from plain noise: how far a pattern gets above the best colour,
  and how much each probe's image excites the other units.
Where the units' best images excite one another within a fraction of a percent, "each filter's own
image excites it most" ranks convergence noise, not what the units respond to.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np
import runners
import tensorflow as tf

from worker.engine.parameterisations import SATURATION_BOUND

LOW, HIGH = 1 / (1 + np.exp(SATURATION_BOUND)), 1 / (1 + np.exp(-SATURATION_BOUND))
MARGIN = 4  # positions this close to the border see the zero padding, not the image


def interior_means(target, images: np.ndarray, units: list[int]) -> np.ndarray:
    _, post = target.activations(tf.constant(images, tf.float32))
    return post.numpy()[:, MARGIN:-MARGIN, MARGIN:-MARGIN, :].mean(axis=(1, 2))[:, units]


def best_uniform_colours(target, units: list[int]) -> tuple[np.ndarray, np.ndarray]:
    levels = np.linspace(LOW, HIGH, 9)
    colours = np.array([(r, g, b) for r in levels for g in levels for b in levels], np.float32)
    images = np.broadcast_to(colours[:, None, None, :], (len(colours), 16, 16, 3)).copy()
    means = interior_means(target, images, units)
    best = np.argmax(means, axis=0)
    return colours[best], means[best, range(len(units))]


def pixel_probe(target, units: list[int], start: np.ndarray, steps: int = 400) -> np.ndarray:
    pixels = tf.Variable(np.clip(start, LOW, HIGH).astype(np.float32))
    optimizer = tf.keras.optimizers.Adam(0.01)
    indices = tf.constant(units)

    @tf.function
    def ascend():
        with tf.GradientTape() as tape:
            _, post = target.activations(pixels)
            own = tf.gather(post[:, MARGIN:-MARGIN, MARGIN:-MARGIN, :], indices, axis=3, batch_dims=1)
            loss = -tf.reduce_sum(tf.reduce_mean(own, axis=[1, 2]))
        optimizer.apply_gradients([(tape.gradient(loss, pixels), pixels)])
        pixels.assign(tf.clip_by_value(pixels, LOW, HIGH))

    for _ in range(steps):
        ascend()
    return pixels.numpy()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--layer", default="block1_conv2")
    parser.add_argument("--filters", default="3,7,15")
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("FILTERSCOPE_DATA_DIR", tempfile.mkdtemp())))
    args = parser.parse_args()
    units = [int(f) for f in args.filters.split(",")]
    target = runners.load_target(args.layer, args.data_dir)
    colours, peaks = best_uniform_colours(target, units)
    print(f"{args.layer}, filters {units}: best uniform colour inside the range (RGB 0-1) and its activation")
    for unit, colour, peak in zip(units, colours, peaks):
        print(f"  filter {unit}: ({', '.join(f'{value:.2f}' for value in colour)}) -> {peak:.1f}")
    rng = np.random.default_rng(0)
    starts = {
        "best colour + noise": colours[:, None, None, :] + rng.normal(0, 0.05, (len(units), 32, 32, 3)),
        "noise": rng.uniform(LOW, HIGH, (len(units), 32, 32, 3)),
    }
    for name, start in starts.items():
        means = interior_means(target, pixel_probe(target, units, start), units)
        print(f"pixel probe from {name}: rows are the probes' images, columns the filters")
        for unit, row in zip(units, means):
            cells = "  ".join(f"{value:8.1f}" for value in row)
            print(f"  filter {unit:3d}'s image: {cells}   (own {row[units.index(unit)] / peaks[units.index(unit)] - 1:+.2%} "
                  "against its best colour)")


if __name__ == "__main__":
    main()
