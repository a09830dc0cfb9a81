"""Render a set of units of one layer: split into batches that fit memory, optimise each batch,
and measure what every final 8-bit image reaches."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import tensorflow as tf

from core.quality import ImageQuality
from core.spec import FilledParams, Objective
from worker.engine.images import to_8bit
from worker.engine.methods import ENGINE_METHODS
from worker.engine.objectives import OBJECTIVES
from worker.engine.optimize import BatchResult, batch_layout
from worker.engine.quality import assess
from worker.engine.target import LayerTarget

ProgressCallback = Callable[[int, int], None]  # (steps done, steps in all)

DEFAULT_MEMORY_BUDGET = 2 * 1024**3
CURVE_POINTS = 32


@dataclass
class Rendering:
    filter: int | None
    index: int  # which of the `diversity` images of this filter
    pixels: np.ndarray  # (size, size, 3) uint8 RGB
    activation: float  # the objective's quantity on `pixels`
    start_activation: float  # the same on the 8-bit image the optimisation started from
    curve: list[float]  # the objective's quantity over the steps, CURVE_POINTS samples
    frames: np.ndarray  # (snapshots, thumb, thumb, 3) uint8: the image while it was optimised
    quality: ImageQuality


def measure(target: LayerTarget, pixels: np.ndarray, units: list[int], objective: Objective = Objective.channel) -> np.ndarray:
    """The objective's quantity for each image, measured on 8-bit images (logits before softmax)."""
    pre, post = target.activations(tf.constant(pixels.astype(np.float32) / 255.0))
    return OBJECTIVES[objective].reported(pre, post, tf.constant(units, tf.int32)).numpy()


def images_per_batch(target: LayerTarget, size: int, count: int, memory_budget: int) -> int:
    size = max(size, target.input_size or 0)  # a fixed-size model runs at its own size, whatever the image's
    fits = int(memory_budget // max(1.0, target.bytes_per_pixel * size * size))
    return max(1, min(count, fits))


def sample_curve(curve: np.ndarray, points: int = CURVE_POINTS) -> list[float]:
    positions = np.unique(np.linspace(0, len(curve) - 1, min(points, len(curve))).round().astype(int))
    return [round(float(curve[p]), 4) for p in positions]


def render(
    target: LayerTarget,
    units: list[int | None],
    params: FilledParams,
    on_progress: ProgressCallback | None = None,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
    max_batch: int | None = None,
) -> list[Rendering]:
    """Every unit's `diversity` images, in as few batches as memory allows. The images of one
    unit always share a batch (their diversity penalty couples them); a batch that runs out of
    memory is halved."""
    target = target.in_precision(params.precision)
    group = params.diversity
    images = images_per_batch(target, params.image_size, len(units) * group, memory_budget)
    if max_batch:
        images = min(images, max_batch)
    per_batch = max(1, images // group)  # units per batch
    renderings: list[Rendering] = []
    done_steps = 0
    while len(renderings) < len(units) * group:
        pending = units[len(renderings) // group:]
        chunk = pending[:per_batch]
        total = done_steps + params.steps * -(-len(pending) // per_batch)

        def report(step: int) -> None:
            if on_progress:
                on_progress(done_steps + step, total)

        try:
            result = ENGINE_METHODS[params.method].run(target, chunk, params, report)
        except tf.errors.ResourceExhaustedError:
            if per_batch == 1:
                raise
            per_batch //= 2
            continue
        done_steps += params.steps
        renderings.extend(finish(target, chunk, params, result))
    return renderings


def finish(target: LayerTarget, units: list[int | None], params: FilledParams, result: BatchResult) -> list[Rendering]:
    per_image, indices = batch_layout(units, params.diversity)
    start_pixels, pixels = to_8bit(result.start), to_8bit(result.final)
    start_activation = measure(target, start_pixels, per_image, params.objective)
    activation = measure(target, pixels, per_image, params.objective)
    qualities = assess(target, pixels, per_image, params.objective)
    unit_of = [unit for unit in units for _ in range(params.diversity)]
    return [
        Rendering(unit_of[i], indices[i], pixels[i], float(activation[i]), float(start_activation[i]),
                  sample_curve(result.curves[i]), result.snapshots.of_image(i), qualities[i])
        for i in range(len(per_image))
    ]
