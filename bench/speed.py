"""Per-step speed, side by side: Filterscope's methods against a plain per-filter gradient-ascent
loop (the Keras example) and tf-keras-vis, on vgg16-hed, 16 filters, 128 px.

    python bench/speed.py [--layers block3_conv1,block5_conv1] [--steps 12]

Prints per-step time, image-steps per second, each one's ratio to Filterscope `fourier`, and the
FLOP/s each reaches against this machine's attainable FP32 rate (a large 3x3 convolution).
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
from pathlib import Path

import runners

FILTERS = list(range(16))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--layers", default="block3_conv1,block5_conv1")
    parser.add_argument("--steps", type=int, default=12, help="timed steps per run (the first 3 are warm-up)")
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("FILTERSCOPE_DATA_DIR", tempfile.mkdtemp())))
    args = parser.parse_args()

    attainable = runners.attainable_flops()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; attainable fp32 {attainable / 1e9:.0f} GFLOP/s")
    for layer in args.layers.split(","):
        target = runners.load_target(layer, args.data_dir)
        flops = runners.conv_flops(target, args.size)
        runs = [runners.filterscope(target, FILTERS, method, args.size, args.steps, set())
                for method in ("fourier", "pixel", "maco", "seed")]
        runs.append(runners.filterscope(target, FILTERS, "fourier", args.size, args.steps, set(), "bfloat16"))
        runs.append(runners.keras_example(target, FILTERS[:2], args.size, args.steps, set()))
        outside = runners.tf_keras_vis(target, FILTERS, args.size, args.steps, set())
        if outside:
            runs.append(outside)
        print(f"\n{layer}: {len(FILTERS)} filters, {args.size} px, {flops / 1e9:.1f} GFLOP per image-step")
        print(f"{'run':28} {'s/step':>8} {'images':>6} {'image-steps/s':>13} {'vs fourier':>10} {'GFLOP/s':>8} {'of attainable':>13}")
        reference = runs[0].images_per_step / runs[0].median_step
        for run in runs:
            rate = run.images_per_step / run.median_step
            print(f"{run.name:28} {run.median_step:8.3f} {run.images_per_step:6d} {rate:13.2f} {rate / reference:9.2f}x "
                  f"{rate * flops / 1e9:8.0f} {rate * flops / attainable:12.0%}")


if __name__ == "__main__":
    main()
