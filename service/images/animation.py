"""The progress animation: every image of a visualisation, frame by frame, as an animated WebP."""

from __future__ import annotations

import io
from typing import Callable, Iterable

from PIL import Image

from service.images.grid import Layout, decode

FRAME_MS = 150
LAST_FRAME_MS = 1500
MAX_FRAME_SIDE = 1024  # px: every frame is held in memory while the animation is encoded


def split_filmstrip(filmstrip: bytes, layout_of: Callable[[int], Layout]) -> list[Image.Image]:
    """The frames of a filmstrip (square frames stacked top to bottom), each shrunk to its tile at once."""
    strip = decode(filmstrip)
    layout = layout_of(strip.width)
    size = strip.width
    return [layout.fit(strip.crop((0, top, size, top + size))) for top in range(0, strip.height, size)]


def animate(count: int, labelled_filmstrips: Iterable[tuple[str, bytes]]) -> tuple[bytes, int]:
    """One animated WebP (lossless) showing `count` filmstrips side by side; returns it and its frame count."""
    layouts: list[Layout] = []

    def layout_of(width: int) -> Layout:  # laid out once the first filmstrip tells the frames' size
        if not layouts:
            layouts.append(Layout(count, width, MAX_FRAME_SIDE))
        return layouts[0]

    strips = [(label, split_filmstrip(data, layout_of)) for label, data in labelled_filmstrips]
    frames = min(len(strip) for _, strip in strips)
    sheets = []
    for t in range(frames):
        sheet = layouts[0].canvas()
        for position, (label, strip) in enumerate(strips):
            layouts[0].paste(sheet, position, label, strip[t])
        sheets.append(sheet)
    durations = [FRAME_MS] * (frames - 1) + [LAST_FRAME_MS]
    out = io.BytesIO()
    sheets[0].save(out, format="WEBP", save_all=True, append_images=sheets[1:], duration=durations, loop=0,
                   lossless=True)
    return out.getvalue(), frames


def frame_count(animation: bytes) -> int:
    return Image.open(io.BytesIO(animation)).n_frames
