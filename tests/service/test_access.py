"""Keys before bodies, and limits per key: rate, queued work and cost."""

from __future__ import annotations

from contextlib import contextmanager

from fastapi.testclient import TestClient

from core.settings import Settings
from core.store import keys
from service.app import create_app
from tests.helpers import tiny_request


@contextmanager
def api_with(settings: Settings, **changes):
    with TestClient(create_app(Settings(**settings.model_dump() | changes))) as client:
        yield client


def test_a_state_changing_request_needs_a_key_before_its_body_is_read(settings, redis, tiny):
    with api_with(settings, api_keys="k1, k2") as client:
        garbage = client.post("/v1/visualizations", content=b"{not json", headers={"content-type": "application/json"})
        assert garbage.status_code == 401  # refused before the body was parsed (that would be a 400)
        assert garbage.headers["content-type"] == "application/problem+json"
        wrong = client.post("/v1/visualizations", json=tiny_request(), headers={"X-API-Key": "k3"})
        assert wrong.status_code == 401 and wrong.json()["type"] == "/problems/unauthorized"
        assert client.post("/v1/visualizations", json=tiny_request(), headers={"X-API-Key": "k1"}).status_code == 202
        assert client.get("/v1/models").status_code == 200  # reading needs no key


def test_over_the_rate_a_key_gets_429_with_retry_after_and_others_do_not(settings, redis, tiny):
    with api_with(settings, api_keys="k1, k2", rate_limit="3/minute") as client:
        answers = [client.post("/v1/visualizations", json=tiny_request(seed=160), headers={"X-API-Key": "k1"})
                   for _ in range(4)]
        assert [a.status_code for a in answers] == [202, 202, 202, 429]
        limited = answers[-1]
        assert limited.json()["type"] == "/problems/rate-limited" and 0 < int(limited.headers["retry-after"]) <= 60
        assert client.post("/v1/visualizations", json=tiny_request(seed=160), headers={"X-API-Key": "k2"}).status_code == 202


def test_a_key_cannot_queue_more_than_its_cap_until_its_work_finishes(settings, redis, tiny, run_jobs):
    with api_with(settings, max_active_per_key=2) as client:
        assert client.post("/v1/visualizations", json=tiny_request(filters=[0], seed=161)).status_code == 202
        assert client.post("/v1/visualizations", json=tiny_request(filters=[1], seed=161)).status_code == 202
        refused = client.post("/v1/visualizations", json=tiny_request(filters=[2], seed=161))
        assert refused.status_code == 429 and refused.json()["type"] == "/problems/too-much-work"
        assert len(redis.keys(keys.visualization("*"))) == 2  # the refused one was not stored
        assert int(refused.headers["retry-after"]) > 0
        again = client.post("/v1/visualizations", json=tiny_request(filters=[0], seed=161))
        assert again.status_code == 202  # asks for nothing new: the job it joins is already counted
        run_jobs()
        assert client.post("/v1/visualizations", json=tiny_request(filters=[2], seed=161)).status_code == 202


def test_a_request_over_the_cost_limit_is_refused_with_its_cost(settings, redis, tiny):
    # 3 filters x 2 images x 6 steps x 16 x 16 px = 9,216 pixel-steps
    with api_with(settings, max_request_cost=9_000) as client:
        refused = client.post("/v1/visualizations", json=tiny_request(filters=[0, 1, 2], diversity=2))
        assert refused.status_code == 422 and refused.json()["type"] == "/problems/too-costly"
        assert "9,216" in refused.json()["detail"] and refused.json()["errors"][0]["field"] == "params"
        assert not redis.keys(keys.visualization("*"))  # nothing of a refused request is stored
        assert client.post("/v1/visualizations", json=tiny_request(filters=[0, 1, 2])).status_code == 202


def test_records_and_job_state_expire(api, redis, tiny, run_jobs, settings):
    created = api.post("/v1/visualizations", json=tiny_request(seed=162)).json()
    run_jobs()
    assert 0 < redis.ttl(keys.visualization(created["id"])) <= settings.record_ttl
    assert 0 < redis.ttl(f"rq:job:{created['id']}") <= settings.result_ttl
    unbounded = {key.decode() for key in redis.keys(keys.PREFIX + "*") if redis.ttl(key) == -1}
    model_files = {key for key in unbounded if key.startswith(keys.file(""))}  # kept while an upload names them
    assert unbounded - model_files == {keys.MODELS, keys.UPLOADS, keys.JOBS_CREATED, keys.STATS}  # catalog, counters


def test_a_poll_renders_evicted_images_again_only_for_a_client_with_a_key(settings, redis, tiny, run_jobs):
    with api_with(settings, api_keys="k1", max_active_per_key=1) as client:
        created = client.post("/v1/visualizations", json=tiny_request(seed=163), headers={"X-API-Key": "k1"}).json()
        run_jobs()
        poll = f"/v1/visualizations/{created['id']}"
        image_key = client.get(poll).json()["images"][0]["url"].split("/")[-1].removesuffix(".png")
        redis.delete(keys.image(image_key))  # evicted from the cache
        client.app.state.image_cache.clear()

        anonymous = client.get(poll).json()
        assert anonymous["status"] == "expired" and anonymous["error"]["type"] == "/problems/unauthorized"
        assert anonymous["images"] == []

        busy = client.post("/v1/visualizations", json=tiny_request(seed=164), headers={"X-API-Key": "k1"})
        assert busy.status_code == 202  # the key's one slot is taken ...
        refused = client.get(poll, headers={"X-API-Key": "k1"})
        assert refused.json()["status"] == "expired" and refused.json()["error"]["type"] == "/problems/too-much-work"
        assert int(refused.headers["retry-after"]) > 0  # ... so the poll says when to look again
        run_jobs()

        renewed = client.get(poll, headers={"X-API-Key": "k1"})
        assert renewed.json()["status"] == "queued" and "retry-after" in renewed.headers
        run_jobs()
        assert client.get(poll).json()["status"] == "finished"
