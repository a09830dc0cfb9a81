"""A model's fingerprint is what it computes: the same on every machine and after every save, and
different when the weights or the preprocessing differ."""

from __future__ import annotations

import time

import keras
import numpy as np

from tests.conftest import TINY_MODEL_FILE
from worker.models import vgg16_hed
from worker.models.fingerprint import model_fingerprint

SPEC = {"mode": "none", "input_range": [0.0, 1.0]}


def test_two_conversions_of_the_built_in_model_have_one_fingerprint(tmp_path, data_dir, vgg16):
    time.sleep(1.1)  # a .keras file records when it was saved, to the second
    path = vgg16_hed.ensure_converted(tmp_path)
    assert path.read_bytes() != (data_dir / "models" / vgg16_hed.FILE_NAME).read_bytes()
    # Built again in this process, its input is named `input_layer_1`, as another machine's may be.
    again = keras.saving.load_model(path, compile=False)
    assert model_fingerprint(again, vgg16_hed.PREPROCESSING) == vgg16.info.fingerprint


def test_a_model_saved_again_keeps_its_fingerprint_and_other_weights_change_it(tmp_path):
    model = keras.saving.load_model(TINY_MODEL_FILE, compile=False)
    time.sleep(1.1)
    model.save(tmp_path / "again.keras")
    assert (tmp_path / "again.keras").read_bytes() != TINY_MODEL_FILE.read_bytes()
    again = keras.saving.load_model(tmp_path / "again.keras", compile=False)
    assert model_fingerprint(again, SPEC) == model_fingerprint(model, SPEC)

    kernel = again.weights[0]
    kernel.assign(kernel.numpy() + np.float32(1e-3))
    assert model_fingerprint(again, SPEC) != model_fingerprint(model, SPEC)
    assert model_fingerprint(model, SPEC | {"input_range": [0.0, 255.0]}) != model_fingerprint(model, SPEC)
