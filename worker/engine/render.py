"""Render a set of filters of one layer: split into batches that fit memory, optimise each batch,
and measure the activation every final 8-bit image reaches."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import tensorflow as tf

from service.visualizations.schemas import FilledParams, Method
from worker.engine.objectives import channel_mean
from worker.engine.optimize import GradientAscent
from worker.engine.seed import run_seed_method
from worker.engine.target import LayerTarget

ProgressCallback = Callable[[int, int], None]  # (steps done, steps in all)

DEFAULT_MEMORY_BUDGET = 2 * 1024**3


@dataclass
class Rendering:
    filter: int
    pixels: np.ndarray  # (size, size, 3) uint8 RGB
    activation: float  # mean activation of the filter on `pixels`
    start_activation: float  # the same on the 8-bit image the optimisation started from


def to_8bit(rgb: np.ndarray) -> np.ndarray:
    return np.clip(np.round(rgb * 255.0), 0, 255).astype(np.uint8)


def measure(target: LayerTarget, pixels: np.ndarray, filters: list[int]) -> np.ndarray:
    """Mean post-activation of each image's filter, measured on 8-bit images."""
    rgb = tf.constant(pixels.astype(np.float32) / 255.0)
    _, post = target.activations(rgb)
    return channel_mean(post, tf.constant(filters, tf.int32)).numpy()


def batch_size(target: LayerTarget, size: int, count: int, memory_budget: int) -> int:
    fits = int(memory_budget // max(1.0, target.bytes_per_pixel * size * size))
    return max(1, min(count, fits))


def render(
    target: LayerTarget,
    filters: list[int],
    params: FilledParams,
    on_progress: ProgressCallback | None = None,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
    max_batch: int | None = None,
) -> list[Rendering]:
    """All filters in as few batches as memory allows; a batch that runs out of memory is halved."""
    batch = batch_size(target, params.image_size, len(filters), memory_budget)
    if max_batch:
        batch = min(batch, max_batch)
    renderings: list[Rendering] = []
    done_steps = 0
    while len(renderings) < len(filters):
        pending = filters[len(renderings):]
        chunk = pending[:batch]
        total = done_steps + params.steps * -(-len(pending) // batch)

        def report(step: int) -> None:
            if on_progress:
                on_progress(done_steps + step, total)

        try:
            start, result = optimise(target, chunk, params, report)
        except tf.errors.ResourceExhaustedError:
            if batch == 1:
                raise
            batch //= 2
            continue
        done_steps += params.steps
        renderings.extend(finish(target, chunk, start, result))
    return renderings


def optimise(target: LayerTarget, filters: list[int], params: FilledParams, on_step) -> tuple[np.ndarray, np.ndarray]:
    """One batch: (starting images, final images), RGB in [0, 1]."""
    if params.method is Method.seed:
        return run_seed_method(target, filters, params, on_step)
    ascent = GradientAscent.for_target(target, params.method, params.image_size, len(filters))
    ascent.reset(filters, params)
    start = ascent.images()
    return start, ascent.run(filters, params, on_step)


def finish(target: LayerTarget, filters: list[int], start: np.ndarray, result: np.ndarray) -> list[Rendering]:
    start_pixels, pixels = to_8bit(start), to_8bit(result)
    start_activation = measure(target, start_pixels, filters)
    activation = measure(target, pixels, filters)
    return [
        Rendering(f, pixels[i], float(activation[i]), float(start_activation[i])) for i, f in enumerate(filters)
    ]
