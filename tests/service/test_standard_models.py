"""The standard catalog: listed with what the operator must provide until its weights are present."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import h5py
import keras
from keras.src.legacy.saving import legacy_h5_format

from core.store import weights
from core.store.files import RedisFiles
from tests.conftest import ROOT
from tests.helpers import decode_png, request

CATALOG = {"vgg16": "caffe", "vgg19": "caffe", "resnet50": "caffe", "resnet50v2": "tf", "inception-v3": "tf",
           "xception": "tf", "mobilenet-v2": "tf", "densenet121": "torch", "efficientnet-b0": "none",
           "convnext-tiny": "none"}


def rendered(api, run_jobs, body: dict) -> dict:
    created = api.post("/v1/visualizations", json=body).json()
    run_jobs()
    return api.get(f"/v1/visualizations/{created['id']}").json()


def test_a_model_without_weights_is_listed_with_the_file_to_provide_and_is_a_409(api, data_dir):
    models = {m["id"]: m for m in api.get("/v1/models").json()}
    for model_id, mode in CATALOG.items():
        assert models[model_id]["preprocessing"]["mode"] == mode
    vgg19 = models["vgg19"]
    assert vgg19["available"] is False and vgg19["status"] == "missing-weights"
    assert vgg19["weights_file"] == "vgg19_weights_tf_dim_ordering_tf_kernels.h5"
    assert str(data_dir / "weights") in vgg19["weights_dirs"] and vgg19["weights_file"] in vgg19["detail"]
    answer = api.post("/v1/visualizations", json={"model": "vgg19", "layer": "block1_conv1", "filters": [0]})
    assert answer.status_code == 409
    assert answer.headers["content-type"] == "application/problem+json"
    assert "vgg19_weights_tf_dim_ordering_tf_kernels.h5" in answer.json()["detail"]
    assert answer.json()["type"] == "/problems/model-unavailable"


def test_a_model_whose_weights_are_present_is_inspected_and_rendered(api, data_dir, run_jobs):
    # Weights saved by a randomly initialised model under the name Keras itself uses.
    weights = data_dir / "weights" / "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5"
    weights.parent.mkdir(exist_ok=True)
    keras.utils.set_random_seed(0)
    with h5py.File(weights, "w") as h5:
        legacy_h5_format.save_weights_to_hdf5_group(h5, keras.applications.MobileNetV2(weights=None))

    first = api.post("/v1/visualizations", json={"model": "mobilenet-v2", "layer": "Conv1", "filters": [0]})
    assert first.status_code == 409 and first.json()["type"].endswith("model-not-ready")
    assert int(first.headers["retry-after"]) > 0
    run_jobs()  # the inspection the request asked for
    model = api.get("/v1/models/mobilenet-v2").json()
    assert model["status"] == "ready" and model["available"] and model["input_shape"] == [224, 224, 3] and len(model["fingerprint"]) == 64
    layers = {layer["name"]: layer for layer in model["layers"]}
    assert layers["predictions"]["type"] == "Dense" and layers["predictions"]["filters"] == 1000
    assert layers["predictions"]["output_shape"] == [1000]

    body = request(layer="block_3_expand", filters=[0, 1], seed=601) | {"model": "mobilenet-v2"}
    done = rendered(api, run_jobs, body)
    assert done["status"] == "finished", done.get("error")
    assert decode_png(api.get(done["images"][0]["url"]).content).shape == (32, 32, 3)

    logits = request(layer="predictions", filters=[7], seed=602, objective="logit") | {"model": "mobilenet-v2"}
    done = rendered(api, run_jobs, logits)
    assert done["status"] == "finished", done.get("error")  # random weights: the logit itself may not move


def test_a_weights_file_that_cannot_be_loaded_is_reported_not_retried_forever(api, data_dir, run_jobs):
    broken = data_dir / "weights" / "xception_weights_tf_dim_ordering_tf_kernels.h5"
    broken.parent.mkdir(exist_ok=True)
    broken.write_bytes(b"not an HDF5 file")
    assert api.post("/v1/visualizations", json={"model": "xception", "layer": "block1_conv1",
                                                "filters": [0]}).status_code == 409
    run_jobs()
    model = api.get("/v1/models/xception").json()
    assert model["status"] == "rejected" and model["available"] is False and str(broken) in model["detail"]
    answer = api.post("/v1/visualizations", json={"model": "xception", "layer": "block1_conv1", "filters": [0]})
    assert answer.status_code == 409 and "could not be loaded" in answer.json()["detail"]
    run_jobs()  # nothing was queued again: the same file is not retried
    assert api.get("/v1/models/xception").json()["status"] == "rejected"


def saved_weights(path, application: str) -> bytes:
    keras.utils.set_random_seed(0)
    with h5py.File(path, "w") as h5:
        legacy_h5_format.save_weights_to_hdf5_group(h5, getattr(keras.applications, application)(weights=None))
    return path.read_bytes()


def test_weights_added_through_the_api_reach_a_worker_without_the_file(api, tmp_path, settings, run_jobs, redis):
    # Elsewhere than any weights directory: the worker can only have it from the model file store.
    data = saved_weights(tmp_path / "efficientnetb0.h5", "EfficientNetB0")
    not_hdf5 = api.put("/v1/models/efficientnet-b0/weights", files={"file": ("efficientnetb0.h5", b"PK\x03\x04")})
    assert not_hdf5.status_code == 422 and not_hdf5.json()["errors"][0]["field"] == "file"
    assert api.put("/v1/models/vgg16-hed/weights", files={"file": ("x.h5", data)}).status_code == 404
    missing = api.get("/v1/models/efficientnet-b0").json()
    assert missing["status"] == "missing-weights" and "PUT /v1/models/efficientnet-b0/weights" in missing["detail"]

    added = api.put("/v1/models/efficientnet-b0/weights", files={"file": ("efficientnetb0.h5", data)})
    assert added.status_code == 202 and added.json()["status"] == "inspecting"
    run_jobs()
    model = api.get("/v1/models/efficientnet-b0").json()
    assert model["status"] == "ready" and model["available"], model
    done = rendered(api, run_jobs, request(layer="stem_conv", filters=[0], seed=603) | {"model": "efficientnet-b0"})
    assert done["status"] == "finished", done.get("error")
    digest = hashlib.sha256(data).hexdigest()
    assert (settings.models_dir / "files" / f"{digest}.h5").read_bytes() == data  # fetched into its own cache


def test_weights_add_names_the_model_from_the_file_or_says_what_to_do(tmp_path, redis, settings):
    def add(path):
        return subprocess.run([sys.executable, "-m", "filterscope", "weights", "add", str(path)], cwd=ROOT,
                              capture_output=True, text=True, timeout=60, env=os.environ)

    stray = tmp_path / "weights.h5"
    stray.write_bytes(b"\x89HDF\r\n\x1a\n")
    out = add(stray)
    assert out.returncode == 2 and "--model" in out.stderr and "efficientnet-b0" in out.stderr
    named = tmp_path / "convnext_tiny.h5"
    named.write_bytes(b"\x89HDF\r\n\x1a\n" + b"weights")
    out = add(named)
    assert out.returncode == 0 and "convnext-tiny" in out.stdout, out.stderr
    stored = weights.get(redis, "convnext-tiny")
    assert stored.file_sha256 == hashlib.sha256(named.read_bytes()).hexdigest()
    assert RedisFiles(redis).get(stored.file_sha256) == named.read_bytes()
