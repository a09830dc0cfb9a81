"""Whole-layer sweeps: every filter of some layers, in chunks within the request limits, resumable,
deduplicated against the cache, one sprite sheet per finished layer."""

from __future__ import annotations

import math

import pytest

from core.store import jobs, keys
from filterscope.client import Client, ProblemError
from tests.helpers import decode_png, tiny_request
from tests.service.test_access import api_with

PARAMS = {"steps": 6, "image_size": 16}
PER_FILTER = 6 * 16 * 16
SWEEP = {"model": "tiny", "layers": ["conv1", "conv2"], "params": PARAMS}


def test_a_sweep_renders_every_filter_in_chunks_and_serves_a_sheet_per_layer(settings, redis, tiny, run_jobs):
    with api_with(settings, max_request_cost=3 * PER_FILTER) as api:  # 3 filters per chunk at most
        before = api.post("/v1/visualizations", json=tiny_request(filters=[0, 1, 2], **PARAMS)).json()
        run_jobs()
        created = api.post("/v1/sweeps", json=SWEEP)
        assert created.status_code == 202 and created.headers["location"] == f"/v1/sweeps/{created.json()['id']}"
        sweep = created.json()
        conv1, conv2 = sweep["layers"]
        assert (conv1["filters"], len(conv1["visualizations"])) == (6, 2)
        assert (conv2["filters"], len(conv2["visualizations"])) == (8, math.ceil(8 / 3))
        assert conv2["visualizations"][0] == before["id"] and conv2["images_done"] == 3  # already rendered: reused
        assert sweep["images"] == 14 and sweep["status"] in ("queued", "running")
        assert jobs.fetch(redis, conv2["visualizations"][0]).get_status() == jobs.JobStatus.FINISHED  # not queued again

        run_jobs()
        done = api.get(f"/v1/sweeps/{sweep['id']}").json()
        assert done["status"] == "finished" and done["images_done"] == 14
        for layer in done["layers"]:
            sheet = api.get(layer["sprite_url"])
            assert sheet.status_code == 200 and sheet.headers["content-type"] == "image/png"
            assert decode_png(sheet.content).shape[0] >= 16 * math.ceil(math.sqrt(layer["filters"]))
            assert api.get(layer["sprite_url"], headers={"If-None-Match": sheet.headers["etag"]}).status_code == 304
        again = api.post("/v1/sweeps", json=SWEEP)
        assert again.status_code == 200 and again.json()["id"] == sweep["id"]  # all cached: nothing queued

        # Resumable: what left the cache is rendered again, and only that.
        evicted = api.get(f"/v1/visualizations/{conv1['visualizations'][1]}").json()["images"][0]["url"]
        redis.delete(keys.image(evicted.split("/")[-1].removesuffix(".png")))
        resumed = api.post("/v1/sweeps", json=SWEEP).json()
        assert resumed["status"] == "running" and resumed["images_done"] == 13
        assert resumed["layers"][0]["sprite_url"] is None
        unfinished = api.get(f"/v1/sweeps/{sweep['id']}/layers/conv1/sprite.png")
        assert unfinished.status_code == 409 and unfinished.json()["type"] == "/problems/not-finished"
        run_jobs()
        assert api.get(f"/v1/sweeps/{sweep['id']}").json()["status"] == "finished"


def test_a_sweep_waits_in_the_bulk_queue_and_counts_once_against_its_client(settings, redis, tiny):
    with api_with(settings, max_request_cost=2 * PER_FILTER, bulk_cost=4 * PER_FILTER, max_active_per_key=2) as api:
        sweep = api.post("/v1/sweeps", json=SWEEP).json()
        chunks = [chunk for layer in sweep["layers"] for chunk in layer["visualizations"]]
        assert len(chunks) == 7 and jobs.queue(redis, settings.queue_name + "-bulk").count == 7
        assert api.get(f"/v1/visualizations/{chunks[0]}").json()["queue"]["queue"] == "bulk"
        # Seven chunks, one piece of work: the client may still queue one more thing, not two.
        assert api.post("/v1/visualizations", json=tiny_request(seed=1201)).status_code == 202
        refused = api.post("/v1/visualizations", json=tiny_request(seed=1202))
        assert refused.status_code == 429 and refused.json()["type"] == "/problems/too-much-work"
        cancelled = api.delete(f"/v1/sweeps/{sweep['id']}").json()
        assert cancelled["status"] == "cancelled" and jobs.queue(redis, settings.queue_name + "-bulk").count == 0


def test_a_sweep_with_a_bad_layer_names_the_field_and_stores_nothing(api, redis, tiny):
    refused = api.post("/v1/sweeps", json=SWEEP | {"layers": ["conv1", "nope"]})
    assert refused.status_code == 422 and refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["errors"][0]["field"] == "layers[1]" and "conv2" in refused.json()["detail"]
    twice = api.post("/v1/sweeps", json=SWEEP | {"layers": ["conv1", "conv1"]})
    assert twice.status_code == 422 and "distinct" in twice.text
    assert not redis.keys(keys.sweep("*")) and not redis.keys(keys.visualization("*"))
    assert api.get("/v1/sweeps/" + "0" * 32).status_code == 404


def test_the_client_starts_and_follows_a_sweep(api, tiny, run_jobs):
    # The typed client over the in-process app's own transport: real requests, no server process.
    with Client(transport=api._transport, base_url=str(api.base_url)) as client:
        sweep = client.sweep("tiny", ["conv2"], **PARAMS)
        assert sweep.layers[0].filters == 8 and sweep.status == "queued"
        run_jobs()
        done = client.get_sweep(sweep.id)
        assert done.status == "finished" and done.images_done == 8
        assert client.image(done.layers[0].sprite_url)[:8] == b"\x89PNG\r\n\x1a\n"
        with pytest.raises(ProblemError) as refused:
            client.sweep("tiny", ["nope"])
        assert refused.value.problem["errors"][0]["field"] == "layers[0]"
