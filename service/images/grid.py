"""Labelled montages of a visualisation's images, bounded in size whatever their number.

Tiles are decoded and shrunk one at a time as they are pasted, so a montage of thousands of
images holds one canvas and one image in memory, never all of them at full size.
"""

from __future__ import annotations

import io
import math
from typing import Iterable

from PIL import Image, ImageDraw

LABEL_HEIGHT = 14
GAP = 2
MAX_SHEET_SIDE = 2048  # px: a montage of 2048 images at 512 px would otherwise be 1.7 GB of canvas
MIN_TILE = 8
DEAD = (220, 0, 0)  # marks a unit the optimisation could not wake


class Layout:
    """Where `count` tiles of `largest` px go in a near-square grid, each under its label, shrunk
    until the sheet fits in `max_side`."""

    def __init__(self, count: int, largest: int, max_side: int = MAX_SHEET_SIDE, columns: int | None = None):
        self.columns = columns or math.ceil(math.sqrt(count))
        self.rows = math.ceil(count / self.columns)
        fits_across = (max_side - GAP) // self.columns - GAP
        fits_down = (max_side - GAP) // self.rows - LABEL_HEIGHT - GAP
        self.tile = max(MIN_TILE, min(largest, fits_across, fits_down))
        self.cell = (self.tile + GAP, self.tile + LABEL_HEIGHT + GAP)

    def canvas(self) -> Image.Image:
        return Image.new("RGB", (self.columns * self.cell[0] + GAP, self.rows * self.cell[1] + GAP), "white")

    def fit(self, tile: Image.Image) -> Image.Image:
        return tile.resize((self.tile, self.tile), Image.Resampling.BOX) if tile.width > self.tile else tile

    def paste(self, sheet: Image.Image, position: int, label: str, tile: Image.Image, dead: bool = False) -> None:
        """Paste a tile under its label; a dead unit's label is red and its tile crossed out."""
        x = GAP + (position % self.columns) * self.cell[0]
        y = GAP + (position // self.columns) * self.cell[1]
        draw = ImageDraw.Draw(sheet)
        draw.text((x + 2, y + 1), f"{label} dead" if dead else label, fill=DEAD if dead else "black")
        sheet.paste(self.fit(tile), (x, y + LABEL_HEIGHT))
        if dead:
            top, bottom = (x, y + LABEL_HEIGHT), (x + self.tile - 1, y + LABEL_HEIGHT + self.tile - 1)
            draw.rectangle((top, bottom), outline=DEAD)
            draw.line((top, bottom), fill=DEAD)


def decode(png: bytes) -> Image.Image:
    return Image.open(io.BytesIO(png)).convert("RGB")


def montage(layout: Layout, labelled_pngs: Iterable[tuple[str, bytes, bool]]) -> bytes:
    """One PNG of every (label, png, dead), decoded one at a time."""
    sheet = layout.canvas()
    for position, (label, png, dead) in enumerate(labelled_pngs):
        layout.paste(sheet, position, label, decode(png), dead)
    return encode(sheet)


def encode(sheet: Image.Image) -> bytes:
    out = io.BytesIO()
    sheet.save(out, format="PNG")
    return out.getvalue()
