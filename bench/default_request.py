"""Time the README's default request (vgg16-hed, block3_conv1, filters 0-3, 128 steps, 96 px) with
each method, in process, and print the activation each reaches against its starting noise.

    python bench/default_request.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from service.visualizations.schemas import Params  # noqa: E402
from worker.engine.render import render  # noqa: E402
from worker.models.registry import ModelRegistry  # noqa: E402

LAYER, FILTERS = "block3_conv1", [0, 1, 2, 3]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("FILTERSCOPE_DATA_DIR", tempfile.mkdtemp())))
    args = parser.parse_args()
    target = ModelRegistry(args.data_dir / "models").get("vgg16-hed").target(LAYER)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    print(f"{'method':8} {'first run s':>11} {'median s':>9} {'s/step':>7} {'start act':>9} {'reached':>9} {'ratio':>7}")
    for method in ("fourier", "pixel", "seed"):
        params = Params(method=method, steps=128, image_size=96).filled()
        times = []
        for _ in range(args.repeats):
            began = time.perf_counter()
            renderings = render(target, FILTERS, params)
            times.append(time.perf_counter() - began)
        start = statistics.mean(r.start_activation for r in renderings)
        reached = statistics.mean(r.activation for r in renderings)
        median = statistics.median(times)
        print(f"{method:8} {times[0]:11.2f} {median:9.2f} {median / params.steps:7.3f} {start:9.2f} {reached:9.1f} "
              f"{reached / max(start, 1e-6):7.0f}x")


if __name__ == "__main__":
    main()
