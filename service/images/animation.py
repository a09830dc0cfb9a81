"""The progress animation: every image of a visualisation, frame by frame, as an animated WebP."""

from __future__ import annotations

import io

from PIL import Image

from service.images.grid import layout

FRAME_MS = 150
LAST_FRAME_MS = 1500
MAX_FRAME_SIDE = 1024  # px: every frame is held in memory while the animation is encoded


def split_filmstrip(filmstrip: bytes) -> list[Image.Image]:
    strip = Image.open(io.BytesIO(filmstrip)).convert("RGB")
    size = strip.width
    return [strip.crop((0, top, size, top + size)) for top in range(0, strip.height, size)]


def animate(labelled_filmstrips: list[tuple[str, bytes]]) -> tuple[bytes, int]:
    """One animated WebP (lossless) showing every filmstrip side by side; returns it and its frame count."""
    strips = [(label, split_filmstrip(data)) for label, data in labelled_filmstrips]
    count = min(len(frames) for _, frames in strips)
    sheets = [layout([(label, frames[t]) for label, frames in strips], MAX_FRAME_SIDE) for t in range(count)]
    durations = [FRAME_MS] * (count - 1) + [LAST_FRAME_MS]
    out = io.BytesIO()
    sheets[0].save(out, format="WEBP", save_all=True, append_images=sheets[1:], duration=durations, loop=0,
                   lossless=True)
    return out.getvalue(), count


def frame_count(animation: bytes) -> int:
    return Image.open(io.BytesIO(animation)).n_frames
