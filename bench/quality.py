"""Quality and time to quality, side by side, on vgg16-hed, 16 filters, 128 px.

    python bench/quality.py [--layers block3_conv1,block5_conv1]

Every method's images are scored the same way: the final 8-bit images run back through the model,
as they are and averaged over small jitters and rescalings (robust activation); the share of their
spectral energy above half the Nyquist frequency; and the optimisation time each method needs to
reach the robust activation that the Keras-example loop and tf-keras-vis end with.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
from pathlib import Path

import numpy as np
import runners

FILTERS = list(range(16))
CHECKPOINTS = {"filterscope": {4, 8, 16, 32, 64, 96, 128, 192, 256}, "keras": {8, 16, 32, 64, 96, 128},
               "tf-keras-vis": {10, 25, 50, 100, 150, 200}}


def curve(run: runners.Run, target, filters) -> list[tuple[float, int, float, float, float]]:
    """(seconds, step, activation, robust activation, high-frequency share) at each checkpoint."""
    points = []
    for seconds, step, images in sorted(run.checkpoints, key=lambda c: c[1]):
        plain, robust = runners.robust_activation(target, images, filters)
        points.append((seconds, step, plain, robust, runners.high_frequency_share(images)))
    return points


def time_to_reach(points, level: float) -> float | None:
    """Seconds at which the robust activation first reaches `level`, interpolated between checkpoints."""
    previous = (0.0, -np.inf)
    for seconds, _, _, robust, _ in points:
        if robust >= level:
            t0, r0 = previous
            if not np.isfinite(r0) or robust == r0:
                return seconds
            return t0 + (seconds - t0) * (level - r0) / (robust - r0)
        previous = (seconds, robust)
    return None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--layers", default="block3_conv1,block5_conv1")
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("FILTERSCOPE_DATA_DIR", tempfile.mkdtemp())))
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores")
    for layer in args.layers.split(","):
        target = runners.load_target(layer, args.data_dir)
        fs = CHECKPOINTS["filterscope"]
        runs = [runners.filterscope(target, FILTERS, m, args.size, max(fs), fs) for m in ("fourier", "pixel", "maco")]
        runs.append(runners.filterscope(target, FILTERS, "fourier", args.size, max(fs), fs, "bfloat16"))
        runs.append(runners.filterscope(target, FILTERS, "seed", args.size, 128, {c for c in fs if c <= 128}))
        runs.append(runners.keras_example(target, FILTERS, args.size, max(CHECKPOINTS["keras"]), CHECKPOINTS["keras"]))
        outside = runners.tf_keras_vis(target, FILTERS, args.size, max(CHECKPOINTS["tf-keras-vis"]),
                                       CHECKPOINTS["tf-keras-vis"])
        if outside:
            runs.append(outside)
        curves = {run.name: curve(run, target, FILTERS) for run in runs}
        baselines = [name for name in curves if name.startswith(("keras", "tf-keras-vis"))]
        levels = {name: curves[name][-1][3] for name in baselines}
        print(f"\n{layer}: {len(FILTERS)} filters, {args.size} px; final images")
        header = f"{'run':28} {'steps':>5} {'opt s':>7} {'activation':>10} {'robust':>8} {'HF share':>8}"
        for name in baselines:
            header += f" | {'to ' + name.split()[0] + ' s':>16} {'faster':>7}"
        print(header)
        for run in runs:
            seconds, step, plain, robust, high = curves[run.name][-1]
            row = f"{run.name:28} {step:5d} {seconds:7.1f} {plain:10.1f} {robust:8.1f} {high:8.3f}"
            for name in baselines:
                mine, theirs = time_to_reach(curves[run.name], levels[name]), time_to_reach(curves[name], levels[name])
                row += f" | {mine:16.1f} {theirs / mine:6.1f}x" if mine else f" | {'not reached':>16} {'':>7}"
            print(row, flush=True)
        print("\nrobust activation at each checkpoint (seconds, step: robust)")
        for name, points in curves.items():
            print(f"  {name:28} " + "  ".join(f"{s:.0f}s/{k}: {r:.1f}" for s, k, _, r, _ in points))


if __name__ == "__main__":
    main()
