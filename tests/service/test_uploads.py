"""Users' own models: a real trained CNN end to end, and hostile files refused without side effects."""

from __future__ import annotations

import hashlib
import io
import json
import os
import time
import zipfile

import keras
import numpy as np
from fastapi.testclient import TestClient
from sklearn.datasets import load_digits

from core.preprocessing import preprocessing_spec
from core.settings import Settings
from core.store import keys
from core.store import uploads as stored_uploads
from core.store.files import RedisFiles
from service.app import create_app
from tests.conftest import TINY_MODEL_FILE, UPLOAD_LIMIT_MB
from tests.helpers import decode_png, request, run_one_job


def upload(api, content: bytes, model_id: str, filename: str = "model.keras", preprocessing: str = "none",
           input_range: str = "0,1"):
    return api.post("/v1/models", files={"file": (filename, content, "application/octet-stream")},
                    data={"id": model_id, "name": model_id, "preprocessing": preprocessing, "input_range": input_range})


def inspected(api, run_jobs, model_id: str) -> dict:
    """The model once a worker has inspected it."""
    run_jobs()
    return api.get(f"/v1/models/{model_id}").json()


def rendered(api, run_jobs, body: dict) -> dict:
    created = api.post("/v1/visualizations", json=body)
    assert created.status_code in (200, 202), created.text
    run_jobs()
    return api.get(f"/v1/visualizations/{created.json()['id']}").json()


def keras_bytes(model: keras.Model, tmp_path) -> bytes:
    path = tmp_path / "model.keras"
    model.save(path)
    return path.read_bytes()


def trained_digit_cnn() -> keras.Model:
    """A small CNN trained briefly on the 8x8 digits that ship with scikit-learn, shown at 16 px."""
    digits = load_digits()
    images = np.kron(digits.images / 16.0, np.ones((2, 2)))[..., None].astype(np.float32)
    keras.utils.set_random_seed(0)
    inputs = keras.Input((None, None, 1))
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv1")(inputs)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Conv2D(32, 3, padding="same", activation="relu", name="conv2")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(10, activation="softmax", name="digits")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(images, digits.target, epochs=30, batch_size=64, verbose=0)
    assert history.history["accuracy"][-1] > 0.8  # it learnt something real
    return model


def test_a_trained_model_uploaded_is_visualised_far_above_noise(api, tmp_path, run_jobs):
    answer = upload(api, keras_bytes(trained_digit_cnn(), tmp_path), "digits-cnn")
    assert answer.status_code == 202 and answer.headers["location"] == "/v1/models/digits-cnn"
    assert answer.json()["status"] == "inspecting"
    model = inspected(api, run_jobs, "digits-cnn")
    assert model["status"] == "ready" and model["available"], model
    assert model["input_shape"] == [None, None, 1] and model["source"] == "upload"
    assert {"conv1", "conv2", "digits"} <= {layer["name"] for layer in model["layers"]}

    body = {"model": "digits-cnn", "layer": "conv2", "filters": [0, 1, 2], "params": {"steps": 40, "image_size": 16}}
    done = rendered(api, run_jobs, body)
    assert done["status"] == "finished", done.get("error")
    noise = rendered(api, run_jobs, body | {"params": {"steps": 1, "image_size": 16, "method": "pixel",
                                                       "learning_rate": 1e-9}})
    for image, start in zip(done["images"], noise["images"]):
        assert image["activation"] > 3 * start["activation"] + 0.1, (image, start)
    assert decode_png(api.get(done["images"][0]["url"]).content).shape == (16, 16, 3)

    logit = {"model": "digits-cnn", "layer": "digits", "filters": [3],
             "params": {"steps": 40, "image_size": 16, "objective": "logit"}}
    done = rendered(api, run_jobs, logit)
    assert done["images"][0]["curve"][-1] > done["images"][0]["curve"][0] + 1


def test_the_vgg16_hed_file_uploaded_gives_the_same_image_as_the_built_in_model(api, data_dir, run_jobs,
                                                                                vgg16_in_catalog):
    content = (data_dir / "models" / "vgg16-hed.keras").read_bytes()
    assert upload(api, content, "my-vgg", preprocessing="caffe", input_range="0,255").status_code == 202
    assert inspected(api, run_jobs, "my-vgg")["status"] == "ready"
    images = []
    for model_id in ("vgg16-hed", "my-vgg"):
        done = rendered(api, run_jobs, request(model_id, filters=[4], seed=701))
        images.append(decode_png(api.get(done["images"][0]["url"]).content))
    np.testing.assert_array_equal(images[0], images[1])


def test_deleting_an_upload_stops_serving_its_images(api, redis, run_jobs, vgg16_in_catalog):
    upload(api, TINY_MODEL_FILE.read_bytes(), "short-lived", input_range="0,1")
    assert inspected(api, run_jobs, "short-lived")["status"] == "ready"
    file_sha256 = stored_uploads.get(redis, "short-lived").file_sha256
    done = rendered(api, run_jobs, request("short-lived", layer="conv2", steps=3, image_size=16, seed=702))
    url = done["images"][0]["url"]
    assert api.get(url).status_code == 200
    assert api.delete("/v1/models/short-lived").status_code == 204
    assert api.get(url).status_code == 404
    assert api.get("/v1/models/short-lived").status_code == 404
    assert not RedisFiles(redis).exists(file_sha256)  # its file left the model store
    assert api.delete("/v1/models/vgg16-hed").status_code == 409


def test_work_queued_for_a_model_deleted_since_fails_as_unavailable(api, run_jobs):
    upload(api, TINY_MODEL_FILE.read_bytes(), "deleted-soon", input_range="0,1")
    assert inspected(api, run_jobs, "deleted-soon")["status"] == "ready"  # this process now holds it loaded
    done = rendered(api, run_jobs, request("deleted-soon", layer="conv2", steps=3, image_size=16, seed=704))
    queued = api.post("/v1/visualizations", json=request("deleted-soon", layer="conv2", steps=3, image_size=16,
                                                          seed=705)).json()
    assert api.delete("/v1/models/deleted-soon").status_code == 204
    run_jobs()  # returns: the job fails instead of rendering images that are revoked as soon as stored
    failed = api.get(f"/v1/visualizations/{queued['id']}").json()
    assert failed["status"] == "failed" and failed["error"]["type"] == "/problems/model-unavailable"
    expired = api.get(f"/v1/visualizations/{done['id']}").json()  # its images are revoked: nothing is queued
    assert expired["status"] == "expired" and expired["error"]["type"] == "/problems/model-unavailable"


def lambda_model(marker) -> keras.Model:
    path = str(marker)
    inputs = keras.Input((None, None, 3))
    outputs = keras.layers.Lambda(lambda t: (open(path, "w").write("ran"), t)[1])(inputs)
    return keras.Model(inputs, keras.layers.Conv2D(2, 3)(outputs))


def zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("metadata.json", "{}")
        archive.writestr("config.json", "{}")
        archive.writestr("model.weights.h5", b"\0" * (300 * 1024**2))
    return out.getvalue()


def with_config(content: bytes, change) -> bytes:
    """The same archive with its config.json edited by `change`."""
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for member in source.infolist():
            data = source.read(member.filename)
            if member.filename == "config.json":
                config = json.loads(data)
                change(config)
                data = json.dumps(config).encode()
            archive.writestr(member.filename, data)
    return out.getvalue()


def dotted_lambda(config: dict) -> None:
    # module "keras" with a dotted name resolves to keras.layers.Lambda when Keras loads it
    conv = next(layer for layer in config["config"]["layers"] if layer["class_name"] == "Conv2D")
    conv.update(module="keras", class_name="layers.Lambda")


def text_model() -> keras.Model:
    tokens = keras.Input((None,), dtype="int32")
    x = keras.layers.Embedding(100, 8)(tokens)
    x = keras.layers.Dense(4)(x)
    return keras.Model(tokens, x)


def test_hostile_files_are_refused_with_a_clear_problem_and_no_side_effect(api, tmp_path, data_dir, redis,
                                                                          vgg16_in_catalog):
    marker = tmp_path / "lambda-ran"
    lambda_file = keras_bytes(lambda_model(marker), tmp_path)
    marker.unlink(missing_ok=True)  # building the model in this process may have called the lambda
    valid = (data_dir / "models" / "vgg16-hed.keras").read_bytes()
    h5 = tmp_path / "model.h5"
    keras.applications.MobileNetV2(weights=None, input_shape=(32, 32, 3), include_top=False).save(h5)
    small = keras_bytes(keras.Model(inputs := keras.Input((None, None, 3)), keras.layers.Conv2D(2, 3)(inputs)), tmp_path)
    cases = [
        ("dotted class path", upload(api, with_config(small, dotted_lambda), "evil-dotted"), 422, "dotted"),
        ("config not a model", upload(api, with_config(small, lambda c: c.update(config=[1, 2])), "evil-config"),
         422, "does not describe"),
        ("built-in id", upload(api, small, "vgg16-hed"), 409, "built-in"),
        ("lambda", upload(api, lambda_file, "evil-lambda"), 422, "Lambda"),
        ("zip bomb", upload(api, zip_bomb(), "evil-bomb"), 422, "zip bomb"),
        ("truncated", upload(api, valid[: len(valid) // 2], "evil-truncated"), 422, "truncated"),
        ("h5", upload(api, h5.read_bytes(), "evil-h5", filename="model.h5"), 422, "HDF5"),
        ("h5 renamed", upload(api, h5.read_bytes(), "evil-h5b"), 422, "HDF5"),
        ("too large", upload(api, os.urandom(1024) * (UPLOAD_LIMIT_MB * 1024 + 1), "evil-large"), 413, "limit"),
        ("no image input", upload(api, keras_bytes(text_model(), tmp_path), "evil-text"), 422, "image input"),
        ("path traversal", upload(api, valid, "../../etc/evil"), 422, "path separators"),
        ("bad input range", upload(api, valid, "evil-range", input_range="white"), 422, "two numbers"),
    ]
    for case, answer, status, words in cases:
        assert answer.status_code == status, (case, answer.text)
        assert answer.headers["content-type"] == "application/problem+json", case
        assert words.lower() in answer.json()["detail"].lower(), (case, answer.json()["detail"])
    assert not marker.exists()
    assert not list(redis.scan_iter(keys.file("*")))  # no refused file was stored
    listed = {m["id"] for m in api.get("/v1/models").json()}
    assert not any(model_id.startswith("evil") for model_id in listed)
    assert api.post("/v1/visualizations", json=request(seed=703)).status_code in (200, 202)  # still works


def test_new_weights_under_the_same_id_never_serve_stale_images(api, tmp_path, run_jobs, redis, settings, registry):
    def conv_model(seed: int) -> bytes:
        keras.utils.set_random_seed(seed)
        inputs = keras.Input((None, None, 3))
        return keras_bytes(keras.Model(inputs, keras.layers.Conv2D(4, 3, activation="relu", name="conv")(inputs)),
                           tmp_path)

    body = {"model": "reuploaded", "layer": "conv", "filters": [0], "params": {"steps": 5, "image_size": 16}}
    upload(api, conv_model(1), "reuploaded", input_range="0,1")
    first = inspected(api, run_jobs, "reuploaded")
    old = rendered(api, run_jobs, body)
    assert api.get(old["images"][0]["url"]).status_code == 200

    queued = api.post("/v1/visualizations", json=body | {"params": {"steps": 5, "image_size": 16, "seed": 9}}).json()
    upload(api, conv_model(2), "reuploaded", input_range="0,1")
    assert api.get(old["images"][0]["url"]).status_code == 404  # the old weights' image is gone at once
    run_one_job(redis, settings)  # the job queued for the first file never opens the second (not yet inspected)
    stale = api.get(f"/v1/visualizations/{queued['id']}").json()
    assert stale["status"] == "failed" and stale["error"]["type"] == "/problems/stale-model"
    assert registry.loaded["reuploaded"].info.fingerprint == first["fingerprint"]
    run_jobs()
    second = api.get("/v1/models/reuploaded").json()
    assert second["status"] == "ready" and second["fingerprint"] != first["fingerprint"]
    new = rendered(api, run_jobs, body)
    assert new["id"] != old["id"] and new["images"][0]["url"] != old["images"][0]["url"]
    assert api.get(new["images"][0]["url"]).status_code == 200


def test_a_model_saved_again_keeps_its_fingerprint_and_its_images(api, tmp_path, run_jobs, redis):
    body = request("resaved", layer="conv2", steps=3, image_size=16, seed=704)
    upload(api, TINY_MODEL_FILE.read_bytes(), "resaved", input_range="0,1")
    first = inspected(api, run_jobs, "resaved")
    url = rendered(api, run_jobs, body)["images"][0]["url"]
    time.sleep(1.1)  # a .keras file records when it was saved, to the second
    again = keras_bytes(keras.saving.load_model(TINY_MODEL_FILE, compile=False), tmp_path)
    assert again != TINY_MODEL_FILE.read_bytes()
    upload(api, again, "resaved", input_range="0,1")
    assert api.get(url).status_code == 404  # not served while the new file is inspected
    second = inspected(api, run_jobs, "resaved")
    assert second["status"] == "ready" and second["fingerprint"] == first["fingerprint"]
    assert api.get(url).status_code == 200  # the same model: its images are valid again
    assert rendered(api, run_jobs, body)["images"][0]["url"] == url  # the same content key, nothing rendered


def test_uploads_and_deletions_need_a_key_when_keys_are_configured(settings, redis):
    keyed = Settings(**settings.model_dump() | {"api_keys": "k1, k2"})
    with TestClient(create_app(keyed)) as client:
        form = {"id": "keyed", "name": "keyed", "preprocessing": "none", "input_range": "0,1"}
        files = {"file": ("m.keras", b"not a model", "application/octet-stream")}
        for headers in ({}, {"X-API-Key": "wrong"}):
            answer = client.post("/v1/models", data=form, files=files, headers=headers)
            assert answer.status_code == 401 and answer.headers["content-type"] == "application/problem+json"
            assert client.delete("/v1/models/keyed", headers=headers).status_code == 401
        # With a valid key the request gets as far as the file checks.
        assert client.post("/v1/models", data=form, files=files, headers={"X-API-Key": "k2"}).status_code == 422
        assert client.get("/v1/models").status_code == 200  # reading needs no key


def test_an_upload_without_a_length_is_counted_as_it_streams_and_refused_past_the_limit(api):
    def chunked_body():
        yield (b'--B\r\nContent-Disposition: form-data; name="id"\r\n\r\nchunky\r\n--B\r\nContent-Disposition: form-data;'
               b' name="file"; filename="m.keras"\r\nContent-Type: application/octet-stream\r\n\r\n')
        for _ in range(UPLOAD_LIMIT_MB * 2):
            yield b"\0" * 1024**2

    answer = api.post("/v1/models", content=chunked_body(), headers={"content-type": "multipart/form-data; boundary=B"})
    assert answer.request.headers["transfer-encoding"] == "chunked"
    assert answer.status_code == 413 and answer.json()["type"] == "/problems/upload-too-large"


def widened(content: bytes, filters: int, weights_bytes: int, honest_shapes: bool = True) -> bytes:
    """The archive with every convolution declaring `filters` filters, and a weights file padded to
    `weights_bytes` so that the declared size looks plausible. Without `honest_shapes`, the shapes
    the config records still say the narrow layers' channels."""
    def change(node) -> None:  # every convolution, and every shape that follows one
        if isinstance(node, list):
            for item in node:
                change(item)
        elif isinstance(node, dict):
            if node.get("class_name") == "Conv2D":
                node["config"]["filters"] = filters
            if not honest_shapes:
                node.pop("build_config", None)  # left for Keras to work out from the graph
            for key, value in node.items():
                if (honest_shapes and key in ("shape", "input_shape") and isinstance(value, list) and value
                        and value[-1] in (6, 8)):
                    value[-1] = filters
                change(value)

    source = zipfile.ZipFile(io.BytesIO(with_config(content, change)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for member in source.infolist():
            data = source.read(member.filename)
            if member.filename == "model.weights.h5":
                data += os.urandom(max(0, weights_bytes - len(data)))
            archive.writestr(member.filename, data)
    return out.getvalue()


def resident_mb() -> float:
    return int(next(line for line in open("/proc/self/status") if line.startswith("VmRSS:")).split()[1]) / 1024


def test_a_config_that_declares_huge_layers_is_refused_before_anything_is_built(api, redis, vgg16_in_catalog):
    bomb = widened(TINY_MODEL_FILE.read_bytes(), 16_000_000, 0)
    answer = upload(api, bomb, "evil-wide")
    assert answer.status_code == 422 and "16,000,000" in answer.json()["detail"]
    # 20,000 filters in two layers: under the per-layer bound, but 20,000 x 20,000 x 9 weights
    # (14 GB) between them, counted from the channels the config records.
    multiplied = upload(api, widened(TINY_MODEL_FILE.read_bytes(), 20_000, 800_000), "evil-multiplied")
    assert multiplied.status_code == 422 and "3,600," in multiplied.json()["detail"]


def test_a_config_that_lies_about_its_shapes_kills_only_a_child_and_is_removed(api, run_jobs, data_dir):
    # The same two layers, with the recorded shapes left narrow and a weights file padded to match
    # what they claim: past the config check, but loading it builds the 14 GB.
    bomb = widened(TINY_MODEL_FILE.read_bytes(), 20_000, 3_500_000, honest_shapes=False)
    assert upload(api, bomb, "evil-lying").status_code == 202
    before = resident_mb()
    model = inspected(api, run_jobs, "evil-lying")
    assert model["status"] == "rejected" and "MB of memory" in model["detail"]
    assert resident_mb() - before < 300  # this process, the worker, did not build it
    assert not list((data_dir / "models" / "uploads").glob("evil-lying*"))
    refused = api.post("/v1/visualizations", json=request("evil-lying", layer="conv2"))
    assert refused.status_code == 409


def test_an_upload_made_by_an_earlier_release_is_inspected_again_and_stored_for_every_worker(api, redis, run_jobs,
                                                                                         tmp_path):
    # As an earlier release left it: the file on the API's disk, its SHA-256 as the fingerprint.
    legacy = tmp_path / "old-cnn-0123456789abcdef.keras"
    legacy.write_bytes(TINY_MODEL_FILE.read_bytes())
    digest = hashlib.sha256(legacy.read_bytes()).hexdigest()
    redis.hset(keys.UPLOADS, "old-cnn", json.dumps({
        "id": "old-cnn", "name": "old", "preprocessing": preprocessing_spec("none", (0.0, 1.0)),
        "fingerprint": digest, "file": str(legacy), "status": "ready", "detail": None}))
    assert api.get("/v1/models/old-cnn").json()["status"] == "inspecting"  # the new fingerprint is not known yet
    model = inspected(api, run_jobs, "old-cnn")
    assert model["status"] == "ready" and model["fingerprint"] != digest  # a one-time change of its keys
    assert RedisFiles(redis).get(digest) == legacy.read_bytes()  # now in the store, for workers elsewhere
    done = rendered(api, run_jobs, request("old-cnn", layer="conv2", steps=3, image_size=16, seed=705))
    assert done["status"] == "finished", done.get("error")
