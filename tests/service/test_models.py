from __future__ import annotations


def test_models_lists_vgg16_hed_with_its_layers(api, vgg16_in_catalog):
    models = {m["id"]: m for m in api.get("/v1/models").json()}
    assert models["vgg16-hed"]["available"] and models["vgg16-hed"]["source"] == "builtin"
    model = api.get("/v1/models/vgg16-hed").json()
    assert model["input_shape"] == [None, None, 3]
    assert model["preprocessing"]["colour_order"] == "BGR" and model["preprocessing"]["mode"] == "caffe"
    assert len(model["fingerprint"]) == 64
    layers = {layer["name"]: layer for layer in model["layers"]}
    assert list(layers)[0] == "block1_conv1" and list(layers)[-1] == "block5_conv3" and len(layers) == 13
    assert layers["block3_conv1"]["filters"] == 256
    assert layers["block3_conv1"]["output_shape"] == [56, 56, 256]
    assert layers["block5_conv3"]["output_shape"] == [14, 14, 512]


def test_an_unknown_model_is_a_404_problem(api):
    answer = api.get("/v1/models/nope")
    assert answer.status_code == 404 and answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["type"] == "/problems/not-found"
