"""Quality and time to quality, side by side, on vgg16-hed, one layer per VGG block.

    python bench/quality.py [--layers block3_conv1,block5_conv1] [--filters 16] [--size 128]

Every run's images are scored the same way: the final 8-bit images run back through the model,
as they are and averaged over small jitters and rescalings (robust activation); the share of units
that fire on their own image among those that can fire (that fire in any run, or on an image found
by a direct probe of their largest pre-activation: alive); the median share of clipped 8-bit
values, and the share within 10 of 0 or 255 (near: flat, posterised colour); selectivity (the share
of filters whose own image excites them more than any other image of the set); the share of
spectral energy above half the Nyquist frequency; the mean of each colour channel; and the
optimisation time each run needs to reach the robust activation the Keras-example loop,
tf-keras-vis and the Lucid recipe end with.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
from pathlib import Path

import numpy as np
import runners

from worker.engine import quality

LAYERS = "block1_conv2,block2_conv2,block3_conv1,block4_conv3,block5_conv3"
CHECKPOINTS = {"filterscope": {4, 8, 16, 32, 64, 96, 128}, "keras": {8, 16, 32, 64, 96, 128},
               "tf-keras-vis": {10, 25, 50, 100, 150, 200}, "lucid": {16, 32, 64, 128, 256, 384, 512}}


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


def mean_rgb(images: np.ndarray) -> str:
    """The mean of each colour channel over the images: a colour cast shows as one far from the others."""
    return "/".join(f"{value:.0f}" for value in images.reshape(-1, 3).mean(axis=0))


def runs_for(target, filters: list[int], size: int, lucid_steps: int) -> list[runners.Run]:
    fs = CHECKPOINTS["filterscope"]
    runs = [runners.filterscope(target, filters, m, size, max(fs), fs) for m in ("fourier", "pixel", "maco")]
    runs.append(runners.filterscope(target, filters, "fourier", size, max(fs), fs, "bfloat16"))
    runs.append(runners.filterscope(target, filters, "seed", size, max(fs), fs))
    runs.append(runners.keras_example(target, filters, size, max(CHECKPOINTS["keras"]), CHECKPOINTS["keras"]))
    outside = runners.tf_keras_vis(target, filters, size, max(CHECKPOINTS["tf-keras-vis"]), CHECKPOINTS["tf-keras-vis"])
    if outside:
        runs.append(outside)
    lucid = {c for c in CHECKPOINTS["lucid"] if c <= lucid_steps} | {lucid_steps}
    runs.append(runners.lucid_recipe(target, filters, size, lucid_steps, lucid))
    return runs


def report(layer: str, target, filters: list[int], size: int, runs: list[runners.Run]) -> None:
    curves = {run.name: curve(run, target, filters) for run in runs}
    finals = {run.name: max(run.checkpoints, key=lambda c: c[1])[2] for run in runs}
    alive = {name: runners.alive(target, images, filters) for name, images in finals.items()}
    can_fire = np.any(list(alive.values()) + [runners.can_fire(target, filters)], axis=0)
    baselines = [name for name in curves if name.startswith(("keras", "tf-keras-vis", "lucid"))]
    levels = {name: curves[name][-1][3] for name in baselines}
    print(f"\n{layer}: {len(filters)} filters, {size} px, {int(can_fire.sum())} can fire (in some run or a direct probe); "
          "final images")
    header = (f"{'run':28} {'steps':>5} {'opt s':>7} {'activation':>10} {'robust':>8} {'alive':>6} {'clipped':>7} "
              f"{'near':>6} {'select':>6} {'HF':>6} {'mean RGB':>11}")
    for name in baselines:
        header += f" | {'to ' + name.split()[0] + ' s':>12} {'faster':>7}"
    print(header)
    for run in runs:
        seconds, step, plain, robust, high = curves[run.name][-1]
        images = finals[run.name]
        live = alive[run.name][can_fire].mean() if can_fire.any() else 0.0
        clipped = float(np.median(quality.clipped_share(images)))
        near = float(np.mean((images <= 10) | (images >= 245)))
        row = (f"{run.name:28} {step:5d} {seconds:7.1f} {plain:10.1f} {robust:8.1f} {live:6.2f} {clipped:7.3f} {near:6.3f} "
               f"{runners.selectivity(target, images, filters):6.2f} {high:6.3f} {mean_rgb(images):>11}")
        for name in baselines:
            mine, theirs = time_to_reach(curves[run.name], levels[name]), time_to_reach(curves[name], levels[name])
            row += f" | {mine:12.1f} {theirs / mine:6.1f}x" if mine else f" | {'not reached':>12} {'':>7}"
        print(row, flush=True)
    default = finals[runs[0].name]
    for miss in runners.selectivity_misses(target, default, filters):
        print(f"  {runs[0].name} selectivity miss: {miss}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--layers", default=LAYERS)
    parser.add_argument("--filters", type=int, default=16)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--lucid-steps", type=int, default=512)
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("FILTERSCOPE_DATA_DIR", tempfile.mkdtemp())))
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores")
    filters = list(range(args.filters))
    for layer in args.layers.split(","):
        target = runners.load_target(layer, args.data_dir)
        report(layer, target, filters, args.size, runs_for(target, filters, args.size, args.lucid_steps))


if __name__ == "__main__":
    main()
