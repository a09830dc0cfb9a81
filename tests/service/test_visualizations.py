"""Visualisations in process: the ASGI app over a flushed Redis database, jobs run by RQ's worker
in burst mode in this process, on the tiny CNN."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PIL import Image

from core.store import jobs, keys
from tests.helpers import decode_png, tiny_request


def jobs_created(redis) -> int:
    return int(redis.get(keys.JOBS_CREATED) or 0)


def rendered(api, run_jobs, body: dict) -> dict:
    """POST, run the queued jobs, and GET the result."""
    created = api.post("/v1/visualizations", json=body)
    assert created.status_code in (200, 202), created.text
    run_jobs()
    return api.get(f"/v1/visualizations/{created.json()['id']}").json()


def queued_targets(redis, visualization_id: str) -> list:
    return [image["filter"] for image in jobs.fetch(redis, visualization_id).args[0]["images"]]


def test_a_visualisation_is_queued_then_rendered_and_served_as_pngs(api, tiny, run_jobs):
    answer = api.post("/v1/visualizations", json=tiny_request(filters=[0, 1, 2], seed=101))
    assert answer.status_code == 202
    created = answer.json()
    assert answer.headers["location"] == f"/v1/visualizations/{created['id']}"
    assert int(answer.headers["retry-after"]) > 0
    assert created["status"] == "queued" and created["progress"] == {"step": 0, "steps": 6}
    assert created["params"] == {"method": "fourier", "objective": "channel", "diversity": 1, "precision": "float32",
                                 "steps": 6, "image_size": 16, "learning_rate": 2.4, "seed": 101, "transforms": True}
    run_jobs()
    finished = api.get(f"/v1/visualizations/{created['id']}").json()
    assert finished["status"] == "finished" and finished["progress"] == {"step": 6, "steps": 6}
    assert [image["filter"] for image in finished["images"]] == [0, 1, 2]
    for image in finished["images"]:
        png = api.get(image["url"])
        assert png.status_code == 200 and png.headers["content-type"] == "image/png"
        assert decode_png(png.content).shape == (16, 16, 3)
        assert len(image["curve"]) == 6
    assert finished["started_at"] and finished["finished_at"] >= finished["started_at"]


def test_the_same_request_again_answers_200_at_once_without_a_job(api, tiny, run_jobs, redis):
    body = tiny_request(filters=[4, 5], seed=102)
    first = rendered(api, run_jobs, body)
    before = jobs_created(redis)
    again = api.post("/v1/visualizations", json=body)
    assert again.status_code == 200 and again.headers["content-location"] == f"/v1/visualizations/{first['id']}"
    assert again.json()["id"] == first["id"] and again.json()["status"] == "finished"
    assert again.json()["images"] == first["images"]
    assert jobs_created(redis) == before


def test_ten_concurrent_identical_requests_create_exactly_one_job(api, tiny, run_jobs, redis):
    body = tiny_request(filters=[6, 7], seed=103)
    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(lambda _: api.post("/v1/visualizations", json=body), range(10)))
    assert {a.status_code for a in answers} == {202}
    assert len({a.json()["id"] for a in answers}) == 1
    assert jobs_created(redis) == 1
    run_jobs()
    assert api.get(f"/v1/visualizations/{answers[0].json()['id']}").json()["status"] == "finished"


def test_an_overlapping_request_renders_only_the_new_filters(api, tiny, run_jobs, redis):
    done = rendered(api, run_jobs, tiny_request(filters=[0, 1], seed=104))
    urls = {image["filter"]: image["url"] for image in done["images"]}
    wider = api.post("/v1/visualizations", json=tiny_request(filters=[0, 1, 2], seed=104))
    assert wider.status_code == 202
    assert queued_targets(redis, wider.json()["id"]) == [2]
    run_jobs()
    finished = api.get(f"/v1/visualizations/{wider.json()['id']}").json()
    assert [image["filter"] for image in finished["images"]] == [0, 1, 2]
    assert {i["filter"]: i["url"] for i in finished["images"] if i["filter"] in urls} == urls


def test_a_running_job_reports_the_progress_its_worker_wrote(api, tiny, redis):
    created = api.post("/v1/visualizations", json=tiny_request(filters=[3], seed=105)).json()
    job = jobs.fetch(redis, created["id"])
    job.set_status(jobs.JobStatus.STARTED)  # as a worker does when it takes the job
    jobs.write_progress(job, jobs.Progress(step=4, steps=6))
    polled = api.get(f"/v1/visualizations/{created['id']}")
    assert polled.json()["status"] == "running" and polled.json()["progress"] == {"step": 4, "steps": 6}
    assert polled.headers["retry-after"]


def test_an_evicted_image_is_rendered_again_with_the_same_bytes(api, tiny, run_jobs, redis):
    body = tiny_request(filters=[2, 3], seed=106)
    done = rendered(api, run_jobs, body)
    evicted = done["images"][1]["url"]
    original = api.get(evicted).content
    redis.delete(keys.image(evicted.split("/")[-1].removesuffix(".png")))
    assert api.get(evicted).content == original  # this process still holds it in memory ...
    api.app.state.image_cache.clear()  # ... another replica, or this one later, does not: it queues it again
    assert api.get(evicted).status_code == 202

    again = api.post("/v1/visualizations", json=body)  # joins that job
    assert again.status_code == 202 and queued_targets(redis, again.json()["id"]) == [3]
    run_jobs()
    assert api.get(evicted).content == original  # deterministic: the same bytes as before


def test_polling_a_visualisation_whose_image_was_evicted_renders_it_again(api, tiny, run_jobs, redis):
    done = rendered(api, run_jobs, tiny_request(filters=[5], seed=109))
    url = done["images"][0]["url"]
    redis.delete(keys.image(url.split("/")[-1].removesuffix(".png")))
    polled = api.get(f"/v1/visualizations/{done['id']}")
    assert polled.json()["status"] == "queued" and polled.headers["retry-after"]
    run_jobs()
    assert api.get(f"/v1/visualizations/{done['id']}").json()["status"] == "finished"
    assert api.get(url).status_code == 200


def test_the_grid_shows_every_filter_of_a_finished_visualisation(api, tiny, run_jobs):
    done = rendered(api, run_jobs, tiny_request(filters=[0, 1, 2], seed=107))
    grid = api.get(done["grid_url"])
    assert grid.status_code == 200 and grid.headers["content-type"] == "image/png"
    pixels = decode_png(grid.content)
    assert pixels.shape[0] >= 2 * 16 and pixels.shape[1] >= 2 * 16  # 2 x 2 tiles of 16 px with labels
    current = api.get(done["grid_url"], headers={"If-None-Match": grid.headers["etag"]})
    assert current.status_code == 304 and current.content == b""


def test_the_grid_and_animation_of_an_unfinished_visualisation_are_409_problems(api, tiny):
    created = api.post("/v1/visualizations", json=tiny_request(filters=[4], seed=108)).json()
    for part in ("grid.png", "progress.webp"):
        answer = api.get(f"/v1/visualizations/{created['id']}/{part}")
        assert answer.status_code == 409 and answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["type"] == "/problems/not-finished"


def test_diversity_gives_each_filter_several_distinct_images_with_curves(api, tiny, run_jobs):
    done = rendered(api, run_jobs, tiny_request(filters=[2, 3], seed=110, diversity=2))
    assert [(i["filter"], i["index"]) for i in done["images"]] == [(2, 0), (2, 1), (3, 0), (3, 1)]
    assert len({i["url"] for i in done["images"]}) == 4
    first, second = (decode_png(api.get(i["url"]).content).astype(int) for i in done["images"][:2])
    assert (first != second).any()  # how far apart they are pushed is the engine tests' concern
    assert all(len(image["curve"]) == 6 for image in done["images"])


def test_the_layer_objective_needs_no_filters(api, tiny, run_jobs):
    done = rendered(api, run_jobs, tiny_request(filters=None, seed=111, objective="layer"))
    assert done["status"] == "finished" and done["filters"] == [None]
    assert [(i["filter"], i["index"]) for i in done["images"]] == [(None, 0)]


def test_the_progress_animation_has_every_snapshot_and_every_image(api, tiny, run_jobs):
    done = rendered(api, run_jobs, tiny_request(filters=[0, 1, 2], seed=112, steps=20))
    animation = api.get(done["progress_url"])
    assert animation.status_code == 200 and animation.headers["content-type"] == "image/webp"
    webp = Image.open(io.BytesIO(animation.content))
    assert webp.n_frames == 17 == int(animation.headers["x-frame-count"])  # the start and 16 snapshots
    grid = Image.open(io.BytesIO(api.get(done["grid_url"]).content))
    assert webp.size == grid.size  # the same 2 x 2 layout, so every image is in every frame
    webp.seek(webp.n_frames - 1)
    last = np.asarray(webp.convert("RGB")).astype(int)
    assert abs(last - np.asarray(grid.convert("RGB")).astype(int)).mean() < 2
    assert api.get(done["progress_url"], headers={"If-None-Match": animation.headers["etag"]}).status_code == 304


def test_the_deployment_default_precision_is_filled_in_and_keyed(settings, tiny):
    from fastapi.testclient import TestClient

    from core.settings import Settings
    from service.app import create_app

    bf16 = Settings(**settings.model_dump() | {"default_precision": "bfloat16"})
    with TestClient(create_app(bf16)) as client:
        implicit = client.post("/v1/visualizations", json=tiny_request(seed=180)).json()
        explicit = client.post("/v1/visualizations", json=tiny_request(seed=180, precision="float32")).json()
    assert implicit["params"]["precision"] == "bfloat16" and explicit["params"]["precision"] == "float32"
    assert implicit["id"] != explicit["id"]


def test_every_image_carries_numbers_true_to_it(api, tiny, run_jobs):
    created = api.post("/v1/visualizations", json=tiny_request(filters=[0, 1], seed=181)).json()
    run_jobs()
    for image in api.get(f"/v1/visualizations/{created['id']}").json()["images"]:
        quality = image["quality"]
        pixels = decode_png(api.get(image["url"]).content)
        assert quality["clipped_share"] == round(float(((pixels == 0) | (pixels == 255)).mean()), 4)
        assert 0.0 <= quality["high_frequency_share"] <= 1.0
        assert image["alive"] == quality["alive"] and image["alive"] == (image["activation"] > 0)
        assert abs(quality["robust_activation"] - image["activation"]) <= 0.5 * abs(image["activation"]) + 0.1
