from __future__ import annotations

from worker.engine.images import read_spec
from tests.helpers import request, wait_finished


def test_an_image_is_immutable_with_a_strong_etag_and_304_on_match(api):
    done = wait_finished(api, api.post("/v1/visualizations", json=request(filters=[3], seed=201)).json()["id"])
    image = api.get(done["images"][0]["url"])
    assert image.headers["cache-control"] == "public, max-age=31536000, immutable"
    etag = image.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    not_modified = api.get(done["images"][0]["url"], headers={"If-None-Match": etag})
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert not_modified.headers["etag"] == etag
    assert api.get(done["images"][0]["url"], headers={"If-None-Match": '"other"'}).status_code == 200


def test_a_png_carries_its_full_spec_in_text_chunks(api, redis):
    done = wait_finished(api, api.post("/v1/visualizations", json=request(filters=[5], seed=202)).json()["id"])
    spec = read_spec(api.get(done["images"][0]["url"]).content)
    model = api.get("/v1/models/vgg16-hed").json()
    assert spec["model"] == "vgg16-hed" and spec["fingerprint"] == model["fingerprint"]
    assert spec["layer"] == "block3_conv1" and spec["filter"] == 5
    assert spec["params"] == done["params"]
    assert spec["engine"] and abs(spec["activation"] - done["images"][0]["activation"]) < 1e-3


def test_an_unknown_image_is_a_404_problem(api):
    for key in ("0" * 32, "not-a-key"):
        answer = api.get(f"/v1/images/{key}.png")
        assert answer.status_code == 404
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["status"] == 404
