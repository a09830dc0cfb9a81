"""The pictures in the README: what each method and each objective gives, as small labelled grids.

    python bench/pictures.py [--out docs/pictures]

Each row of a grid is one method (or objective) at the defaults except the size, the same filters
of vgg16-hed in every row, each tile labelled with its filter and, where the unit stayed silent,
marked dead.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import runners
from PIL import Image

from service.images.grid import Layout, encode
from service.visualizations.schemas import Params
from worker.engine.render import render

SIZE = 64
FILTERS = [0, 1, 2, 3, 4, 5]
METHOD_LAYERS = ["block2_conv2", "block3_conv1", "block4_conv3", "block5_conv3"]
OBJECTIVES = ["channel", "neuron", "negative"]


def rows_grid(rows: list[tuple[str, list]]) -> bytes:
    """One PNG: a row of tiles per (name, renderings), each tile labelled."""
    columns = len(rows[0][1])
    layout = Layout(len(rows) * columns, SIZE, columns=columns)
    sheet = layout.canvas()
    for row, (name, renderings) in enumerate(rows):
        for column, rendering in enumerate(renderings):
            label = f"{name} #{rendering.filter}"
            layout.paste(sheet, row * columns + column, label, Image.fromarray(rendering.pixels),
                         dead=not rendering.quality.alive and name != "negative")
    return encode(sheet)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs" / "pictures")
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("FILTERSCOPE_DATA_DIR", tempfile.mkdtemp())))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for layer in METHOD_LAYERS:
        target = runners.load_target(layer, args.data_dir)
        rows = [(method, render(target, FILTERS, Params(method=method, image_size=SIZE).filled()))
                for method in ("fourier", "maco", "pixel", "seed")]
        (args.out / f"methods-{layer}.png").write_bytes(rows_grid(rows))
        print(f"methods-{layer}.png", flush=True)
    target = runners.load_target("block4_conv3", args.data_dir)
    rows = [(objective, render(target, FILTERS, Params(objective=objective, image_size=SIZE).filled()))
            for objective in OBJECTIVES]
    (args.out / "objectives-block4_conv3.png").write_bytes(rows_grid(rows))
    print("objectives-block4_conv3.png")


if __name__ == "__main__":
    main()
