"""Operators can see the service: /metrics in the Prometheus text format."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import tiny_request


def samples(api) -> dict[tuple[str, tuple], float]:
    answer = api.get("/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(answer.text) for sample in family.samples}


def test_metrics_count_jobs_steps_cache_and_queue(api, tiny, run_jobs, settings):
    before = samples(api)
    body = tiny_request(filters=[0, 1], seed=180, steps=5)
    api.post("/v1/visualizations", json=body)
    queued = samples(api)
    assert queued[("filterscope_queue_depth", (("queue", settings.queue_name),))] == 1
    run_jobs()
    api.post("/v1/visualizations", json=body)  # now a cache hit
    done = api.get(f"/v1/visualizations/{api.post('/v1/visualizations', json=body).json()['id']}").json()
    api.get(done["images"][0]["url"])
    after = samples(api)
    assert after[("filterscope_jobs_total", (("outcome", "finished"),))] == 1
    assert after[("filterscope_image_steps_total", ())] == 2 * 5
    assert after[("filterscope_render_seconds_total", ())] > 0
    assert after[("filterscope_queue_depth", (("queue", settings.queue_name),))] == 0
    hits = ("filterscope_cache_lookups_total", (("result", "hit"),))
    misses = ("filterscope_cache_lookups_total", (("result", "miss"),))
    assert after[hits] - before.get(hits, 0) == 2 and after[misses] - before.get(misses, 0) == 1
    served = ("filterscope_images_served_total", ())
    assert after[served] - before.get(served, 0) == 1
    assert ("filterscope_live_workers", ()) in after
