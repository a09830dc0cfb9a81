from __future__ import annotations

from tests.helpers import tiny_request
from worker.engine.images import read_spec


def rendered_image(api, run_jobs, seed: int) -> tuple[dict, dict]:
    created = api.post("/v1/visualizations", json=tiny_request(filters=[3], seed=seed)).json()
    run_jobs()
    done = api.get(f"/v1/visualizations/{created['id']}").json()
    return done, done["images"][0]


def test_an_image_is_immutable_with_a_strong_etag_and_304_on_match(api, tiny, run_jobs):
    _, entry = rendered_image(api, run_jobs, 201)
    image = api.get(entry["url"])
    assert image.headers["cache-control"] == "public, max-age=31536000, immutable"
    etag = image.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    not_modified = api.get(entry["url"], headers={"If-None-Match": etag})
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert not_modified.headers["etag"] == etag
    assert api.get(entry["url"], headers={"If-None-Match": f'"other", W/{etag}'}).status_code == 304
    assert api.get(entry["url"], headers={"If-None-Match": '"other"'}).status_code == 200


def test_a_png_carries_its_full_spec_in_text_chunks(api, tiny, run_jobs, tiny_upload):
    done, entry = rendered_image(api, run_jobs, 202)
    spec = read_spec(api.get(entry["url"]).content)
    assert spec["model"] == "tiny" and spec["fingerprint"] == tiny_upload.record.fingerprint
    assert spec["layer"] == "conv2" and spec["filter"] == 3
    assert spec["params"] == done["params"]
    assert spec["engine"] and abs(spec["activation"] - entry["activation"]) < 1e-3


def test_an_unknown_image_is_a_404_problem(api):
    for key in ("0" * 32, "not-a-key"):
        answer = api.get(f"/v1/images/{key}.png")
        assert answer.status_code == 404
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["type"] == "/problems/image-not-found" and answer.json()["status"] == 404


def test_a_cached_image_is_served_from_memory_and_stops_when_its_model_is_deleted(api, tiny, run_jobs, redis):
    from core.store import keys, uploads

    _, entry = rendered_image(api, run_jobs, 203)
    key = entry["url"].split("/")[-1].removesuffix(".png")
    first = api.get(entry["url"])
    redis.hdel(keys.image(key), "png")  # Redis no longer has the bytes; this process does
    again = api.get(entry["url"])
    assert again.status_code == 200 and again.content == first.content and again.headers["etag"] == first.headers["etag"]
    uploads.revoke(redis, "tiny", uploads.get(redis, "tiny").fingerprint)  # the model deleted (by another replica)
    api.app.state.image_cache.revocations_changed()  # what half a second does on every replica
    assert api.get(entry["url"]).status_code == 404
