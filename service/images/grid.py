"""Labelled montages of a visualisation's images, bounded in size whatever their number."""

from __future__ import annotations

import io
import math

from PIL import Image, ImageDraw

LABEL_HEIGHT = 14
GAP = 2
MAX_SHEET_SIDE = 2048  # px: a montage of 2048 images at 512 px would otherwise be 1.7 GB of canvas
MIN_TILE = 8


def tile_size(columns: int, rows: int, largest: int, max_side: int) -> int:
    """The side of each tile: the images' own size, shrunk until the sheet fits in `max_side`."""
    fits_across = (max_side - GAP) // columns - GAP
    fits_down = (max_side - GAP) // rows - LABEL_HEIGHT - GAP
    return max(MIN_TILE, min(largest, fits_across, fits_down))


def layout(tiles: list[tuple[str, Image.Image]], max_side: int = MAX_SHEET_SIDE) -> Image.Image:
    """Tiles in a near-square grid, each under its label."""
    columns = math.ceil(math.sqrt(len(tiles)))
    rows = math.ceil(len(tiles) / columns)
    size = tile_size(columns, rows, max(tile.width for _, tile in tiles), max_side)
    cell_w, cell_h = size + GAP, size + LABEL_HEIGHT + GAP
    sheet = Image.new("RGB", (columns * cell_w + GAP, rows * cell_h + GAP), "white")
    draw = ImageDraw.Draw(sheet)
    for n, (label, tile) in enumerate(tiles):
        x, y = GAP + (n % columns) * cell_w, GAP + (n // columns) * cell_h
        draw.text((x + 2, y + 1), label, fill="black")
        if tile.width > size:
            tile = tile.resize((size, size), Image.Resampling.BOX)
        sheet.paste(tile, (x, y + LABEL_HEIGHT))
    return sheet


def montage(images: list[tuple[str, bytes]]) -> bytes:
    """One PNG of every (label, png)."""
    sheet = layout([(label, Image.open(io.BytesIO(png)).convert("RGB")) for label, png in images])
    out = io.BytesIO()
    sheet.save(out, format="PNG")
    return out.getvalue()
