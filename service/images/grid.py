"""Labelled montages of a visualisation's images."""

from __future__ import annotations

import io
import math

from PIL import Image, ImageDraw

LABEL_HEIGHT = 14
GAP = 2


def layout(tiles: list[tuple[str, Image.Image]]) -> Image.Image:
    """Tiles in a near-square grid, each under its label."""
    size = max(tile.width for _, tile in tiles)
    columns = math.ceil(math.sqrt(len(tiles)))
    rows = math.ceil(len(tiles) / columns)
    cell_w, cell_h = size + GAP, size + LABEL_HEIGHT + GAP
    sheet = Image.new("RGB", (columns * cell_w + GAP, rows * cell_h + GAP), "white")
    draw = ImageDraw.Draw(sheet)
    for n, (label, tile) in enumerate(tiles):
        x, y = GAP + (n % columns) * cell_w, GAP + (n // columns) * cell_h
        draw.text((x + 2, y + 1), label, fill="black")
        sheet.paste(tile, (x, y + LABEL_HEIGHT))
    return sheet


def montage(images: list[tuple[str, bytes]]) -> bytes:
    """One PNG of every (label, png)."""
    sheet = layout([(label, Image.open(io.BytesIO(png)).convert("RGB")) for label, png in images])
    out = io.BytesIO()
    sheet.save(out, format="PNG")
    return out.getvalue()
