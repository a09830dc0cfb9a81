"""How RGB pixels become a model's input, as plain data the API can store and show.

`scale`, `mean` and `std` describe input = (rgb01 * scale - mean) / std, channels in `colour_order`;
workers invert it to turn what they optimise back into ordinary RGB.
"""

from __future__ import annotations

from typing import Literal

Mode = Literal["caffe", "tf", "torch", "none"]

IMAGENET_BGR_MEAN = [103.939, 116.779, 123.68]
IMAGENET_RGB_MEAN = [0.485, 0.456, 0.406]
IMAGENET_RGB_STD = [0.229, 0.224, 0.225]


def preprocessing_spec(mode: Mode, input_range: tuple[float, float] = (0.0, 255.0)) -> dict:
    """The four conventions of keras.applications; `none` maps RGB onto `input_range` as it is."""
    if mode == "caffe":  # BGR, 0..255, ImageNet mean subtracted
        spec = {"colour_order": "BGR", "scale": 255.0, "mean": IMAGENET_BGR_MEAN, "std": [1.0, 1.0, 1.0]}
    elif mode == "tf":  # RGB scaled to -1..1
        spec = {"colour_order": "RGB", "scale": 2.0, "mean": [1.0, 1.0, 1.0], "std": [1.0, 1.0, 1.0]}
    elif mode == "torch":  # RGB 0..1, ImageNet mean and std
        spec = {"colour_order": "RGB", "scale": 1.0, "mean": IMAGENET_RGB_MEAN, "std": IMAGENET_RGB_STD}
    else:  # the model normalises itself (or expects raw values) in input_range
        low, high = input_range
        spec = {"colour_order": "RGB", "scale": high - low, "mean": [-low] * 3, "std": [1.0, 1.0, 1.0]}
    return {"mode": mode, **spec, "input_range": list(input_range) if mode == "none" else None}
