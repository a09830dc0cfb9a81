"""The standard catalog: listed with what the operator must provide until its weights are present."""

from __future__ import annotations

import h5py
import keras
from keras.src.legacy.saving import legacy_h5_format

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
