"""Snapshots of a batch while it is optimised: small frames for the progress animation."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from worker.engine.images import to_8bit

SNAPSHOT_COUNT = 16  # frames after the start frame
THUMBNAIL_SIZE = 96  # frames are at most this many pixels wide: the animation shows the course, not detail


def snapshot_steps(steps: int) -> list[int]:
    """The steps after which a frame is taken: step 0 (the start) and evenly to the last step."""
    return sorted({0, *(round(k * steps / SNAPSHOT_COUNT) for k in range(1, SNAPSHOT_COUNT + 1))})


class Snapshots:
    def __init__(self, steps: int, size: int):
        self.steps = snapshot_steps(steps)
        self.size = min(size, THUMBNAIL_SIZE)
        self.frames: list[np.ndarray] = []  # each (batch, thumb, thumb, 3) uint8

    def due(self, step: int) -> bool:
        return step in self.steps

    def take(self, step: int, rgb) -> None:
        if step not in self.steps or len(self.frames) > self.steps.index(step):
            return
        thumbnails = tf.image.resize(rgb, [self.size, self.size], method="area") if self.size != rgb.shape[1] else rgb
        self.frames.append(to_8bit(thumbnails))

    def of_image(self, position: int) -> np.ndarray:
        """All frames of one image of the batch, (frames, thumb, thumb, 3)."""
        return np.stack([frame[position] for frame in self.frames])
