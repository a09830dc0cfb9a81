"""A labelled montage of a visualisation's images."""

from __future__ import annotations

import io
import math

from PIL import Image, ImageDraw

LABEL_HEIGHT = 14
GAP = 2


def montage(images: list[tuple[int, bytes]]) -> bytes:
    """One PNG with every (filter, png) laid out in a near-square grid, each labelled `#filter`."""
    tiles = [(f, Image.open(io.BytesIO(png)).convert("RGB")) for f, png in images]
    size = max(t.width for _, t in tiles)
    columns = math.ceil(math.sqrt(len(tiles)))
    rows = math.ceil(len(tiles) / columns)
    cell_w, cell_h = size + GAP, size + LABEL_HEIGHT + GAP
    sheet = Image.new("RGB", (columns * cell_w + GAP, rows * cell_h + GAP), "white")
    draw = ImageDraw.Draw(sheet)
    for n, (filter_index, tile) in enumerate(tiles):
        x, y = GAP + (n % columns) * cell_w, GAP + (n // columns) * cell_h
        draw.text((x + 2, y + 1), f"#{filter_index}", fill="black")
        sheet.paste(tile, (x, y + LABEL_HEIGHT))
    out = io.BytesIO()
    sheet.save(out, format="PNG", optimize=False)
    return out.getvalue()
