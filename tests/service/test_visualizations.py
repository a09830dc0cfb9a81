"""The whole path as a user meets it: real HTTP through uvicorn, a real worker, a real Redis."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from rq.job import Job
from rq.serializers import JSONSerializer

from service.models.catalog import LayerInfo, ModelInfo, publish
import io

import numpy as np
from PIL import Image

from tests.helpers import JOBS_CREATED, decode_png, request, wait_finished


def jobs_created(redis) -> int:
    return int(redis.get(JOBS_CREATED) or 0)


def test_a_visualisation_is_queued_rendered_and_served_as_pngs(api):
    body = request(filters=[0, 1, 2, 3], seed=101)
    answer = api.post("/v1/visualizations", json=body)
    assert answer.status_code == 202
    created = answer.json()
    assert answer.headers["location"] == f"/v1/visualizations/{created['id']}"
    assert int(answer.headers["retry-after"]) > 0
    assert created["status"] in ("queued", "running")
    assert created["params"] == {"method": "fourier", "objective": "channel", "diversity": 1, "precision": "float32", "steps": 12,
                                 "image_size": 32, "learning_rate": 0.4, "seed": 101, "transforms": True}

    finished = wait_finished(api, created["id"])
    assert finished["status"] == "finished"
    assert finished["progress"] == {"step": 12, "steps": 12}
    assert [image["filter"] for image in finished["images"]] == [0, 1, 2, 3]
    for image in finished["images"]:
        png = api.get(image["url"])
        assert png.status_code == 200 and png.headers["content-type"] == "image/png"
        assert decode_png(png.content).shape == (32, 32, 3)
        assert image["activation"] > 0
    assert finished["started_at"] and finished["finished_at"] >= finished["started_at"]


def test_the_same_request_again_answers_200_at_once_without_a_job(api, redis):
    body = request(filters=[4, 5], seed=102)
    first = wait_finished(api, api.post("/v1/visualizations", json=body).json()["id"])
    before = jobs_created(redis)
    again = api.post("/v1/visualizations", json=body)
    assert again.status_code == 200
    assert again.json()["id"] == first["id"]
    assert again.json()["status"] == "finished"
    assert again.json()["images"] == first["images"]
    assert jobs_created(redis) == before


def test_ten_concurrent_identical_requests_create_exactly_one_job(api, redis):
    body = request(filters=[6, 7], seed=103)
    before = jobs_created(redis)
    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(lambda _: api.post("/v1/visualizations", json=body), range(10)))
    assert {a.status_code for a in answers} == {202}
    assert len({a.json()["id"] for a in answers}) == 1
    assert jobs_created(redis) == before + 1
    assert wait_finished(api, answers[0].json()["id"])["status"] == "finished"


def test_an_overlapping_request_renders_only_the_new_filters(api, redis):
    first = api.post("/v1/visualizations", json=request(filters=[8, 9], seed=104)).json()
    done = wait_finished(api, first["id"])
    urls = {image["filter"]: image["url"] for image in done["images"]}

    wider = api.post("/v1/visualizations", json=request(filters=[8, 9, 10], seed=104))
    assert wider.status_code == 202
    job = Job.fetch(wider.json()["id"], connection=redis, serializer=JSONSerializer)
    assert [image["filter"] for image in job.args[0]["images"]] == [10]
    finished = wait_finished(api, wider.json()["id"])
    assert [image["filter"] for image in finished["images"]] == [8, 9, 10]
    assert {i["filter"]: i["url"] for i in finished["images"] if i["filter"] in urls} == urls


def test_progress_advances_while_a_job_runs(api):
    created = api.post("/v1/visualizations", json=request(filters=[11], seed=105, steps=400)).json()
    seen = set()
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        body = api.get(f"/v1/visualizations/{created['id']}").json()
        if body["status"] == "running":
            seen.add(body["progress"]["step"])
        if body["status"] == "finished":
            break
        time.sleep(0.05)
    assert body["status"] == "finished"
    assert len([step for step in seen if 0 < step < 400]) >= 2, seen


def test_an_evicted_image_is_rendered_again_on_the_next_request(api, redis):
    body = request(filters=[12, 13], seed=106)
    done = wait_finished(api, api.post("/v1/visualizations", json=body).json()["id"])
    evicted = done["images"][1]["url"]
    original = api.get(evicted).content
    redis.delete("filterscope:image:" + evicted.split("/")[-1].removesuffix(".png"))
    assert api.get(evicted).status_code == 404

    again = api.post("/v1/visualizations", json=body)
    assert again.status_code == 202
    job = Job.fetch(again.json()["id"], connection=redis, serializer=JSONSerializer)
    assert [image["filter"] for image in job.args[0]["images"]] == [13]
    assert wait_finished(api, again.json()["id"])["status"] == "finished"
    assert api.get(evicted).content == original  # deterministic: the same bytes as before


def test_polling_a_visualisation_whose_image_was_evicted_renders_it_again(api, redis):
    done = wait_finished(api, api.post("/v1/visualizations", json=request(filters=[15], seed=109)).json()["id"])
    url = done["images"][0]["url"]
    redis.delete("filterscope:image:" + url.split("/")[-1].removesuffix(".png"))
    polled = api.get(f"/v1/visualizations/{done['id']}")
    assert polled.json()["status"] in ("queued", "running") and polled.headers["retry-after"]
    assert wait_finished(api, done["id"])["status"] == "finished"
    assert api.get(url).status_code == 200


def test_a_failed_job_says_why(api, redis):
    # A model in the catalog that no worker can load, as after its file was removed.
    publish(redis, ModelInfo(id="ghost", name="ghost", fingerprint="0" * 64, input_shape=[None, None, 3],
                             reference_input_size=224, preprocessing={},
                             layers=[LayerInfo(name="conv", type="Conv2D", filters=4, output_shape=[224, 224, 4])]))
    try:
        created = api.post("/v1/visualizations", json={"model": "ghost", "layer": "conv", "filters": [0]})
        assert created.status_code == 202
        failed = wait_finished(api, created.json()["id"])
    finally:
        redis.hdel("filterscope:models", "ghost")
    assert failed["status"] == "failed"
    assert failed["error"]["status"] == 500
    assert "ghost" in failed["error"]["detail"]
    assert failed["images"] == []


def test_the_grid_shows_every_filter_of_a_finished_visualisation(api):
    done = wait_finished(api, api.post("/v1/visualizations", json=request(filters=[0, 1, 2], seed=107)).json()["id"])
    grid = api.get(done["grid_url"])
    assert grid.status_code == 200 and grid.headers["content-type"] == "image/png"
    pixels = decode_png(grid.content)
    assert pixels.shape[0] >= 2 * 32 and pixels.shape[1] >= 2 * 32  # 2 x 2 tiles of 32 px with labels
    assert api.get(done["grid_url"], headers={"If-None-Match": grid.headers["etag"]}).status_code == 304


def test_the_grid_of_an_unfinished_visualisation_is_a_409_problem(api):
    created = api.post("/v1/visualizations", json=request(filters=[14], seed=108, steps=300)).json()
    grid = api.get(f"/v1/visualizations/{created['id']}/grid.png")
    assert grid.status_code == 409
    assert grid.headers["content-type"] == "application/problem+json"
    wait_finished(api, created["id"])


def test_diversity_gives_each_filter_several_images_with_curves(api):
    done = wait_finished(api, api.post("/v1/visualizations", json=request(filters=[2, 3], seed=110, diversity=2)).json()["id"])
    assert [(i["filter"], i["index"]) for i in done["images"]] == [(2, 0), (2, 1), (3, 0), (3, 1)]
    assert len({i["url"] for i in done["images"]}) == 4
    first, second = (decode_png(api.get(i["url"]).content).astype(int) for i in done["images"][:2])
    assert abs(first - second).mean() > 5
    for image in done["images"]:
        assert len(image["curve"]) == 12 and image["curve"][-1] > image["curve"][0]


def test_the_layer_objective_needs_no_filters(api):
    body = request(seed=111, objective="layer")
    del body["filters"]
    done = wait_finished(api, api.post("/v1/visualizations", json=body).json()["id"])
    assert done["status"] == "finished" and done["filters"] == [None]
    assert [(i["filter"], i["index"]) for i in done["images"]] == [(None, 0)]


def test_the_progress_animation_has_every_snapshot_and_every_image(api):
    done = wait_finished(api, api.post("/v1/visualizations", json=request(filters=[0, 1, 2], seed=112, steps=20)).json()["id"])
    animation = api.get(done["progress_url"])
    assert animation.status_code == 200 and animation.headers["content-type"] == "image/webp"
    webp = Image.open(io.BytesIO(animation.content))
    assert webp.n_frames == 17 == int(animation.headers["x-frame-count"])  # the start and 16 snapshots
    grid = Image.open(io.BytesIO(api.get(done["grid_url"]).content))
    assert webp.size == grid.size  # the same 2 x 2 layout, so every image is in every frame
    webp.seek(webp.n_frames - 1)
    last = np.asarray(webp.convert("RGB")).astype(int)
    assert abs(last - np.asarray(grid.convert("RGB")).astype(int)).mean() < 2
