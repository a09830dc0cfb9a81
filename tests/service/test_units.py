"""The stable per-unit URL and healing content URLs: an image URL always ends in its picture."""

from __future__ import annotations

import threading
import time

from core.store import jobs, keys
from tests.helpers import decode_png, tiny_request

UNIT = "/v1/models/tiny/layers/conv2/filters/3.png?steps=6&image_size=16&seed=31"


def queued_count(redis, settings) -> int:
    return jobs.queue(redis, settings.queue_name).count


def test_a_unit_url_queues_once_answers_a_placeholder_then_serves_the_image(api, tiny, run_jobs, redis, settings):
    first = api.get(UNIT)
    assert first.status_code == 202 and first.headers["content-type"] == "image/png"
    assert first.headers["cache-control"] == "no-store" and int(first.headers["retry-after"]) >= 1
    assert decode_png(first.content).shape == (64, 64, 3)  # the placeholder, not the image
    assert api.get(UNIT).status_code == 202 and queued_count(redis, settings) == 1  # the same job, not another
    visualization = api.get(first.headers["location"]).json()
    assert visualization["status"] == "queued" and visualization["filters"] == [3]

    run_jobs()
    image = api.get(UNIT)
    assert image.status_code == 200 and decode_png(image.content).shape == (16, 16, 3)
    assert image.headers["cache-control"] == "no-cache"
    done = api.get(first.headers["location"]).json()
    assert image.headers["content-location"] == done["images"][0]["url"]
    assert api.get(done["images"][0]["url"]).content == image.content
    again = api.get(UNIT, headers={"If-None-Match": image.headers["etag"]})
    assert again.status_code == 304 and again.headers["content-location"] == done["images"][0]["url"]


def test_the_unit_url_is_the_post_with_its_defaults(api, tiny, run_jobs):
    posted = api.post("/v1/visualizations", json=tiny_request(filters=[2], seed=32)).json()
    run_jobs()
    url = api.get(f"/v1/visualizations/{posted['id']}").json()["images"][0]["url"]
    image = api.get("/v1/models/tiny/layers/conv2/filters/2.png?seed=32&steps=6&image_size=16")
    assert image.status_code == 200 and image.headers["content-location"] == url


def test_a_held_request_answers_with_the_image_once_a_worker_made_it(api, tiny, run_jobs, redis, settings):
    answers = []
    holder = threading.Thread(target=lambda: answers.append(api.get(UNIT.replace("seed=31", "seed=33") + "&wait=60")))
    holder.start()
    deadline = time.monotonic() + 10
    while queued_count(redis, settings) == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    run_jobs()
    holder.join(30)
    assert answers and answers[0].status_code == 200 and decode_png(answers[0].content).shape == (16, 16, 3)


def test_a_browser_image_load_is_held_by_default_and_a_short_wait_ends_in_the_placeholder(api, tiny, settings):
    began = time.monotonic()
    answer = api.get(UNIT.replace("seed=31", "seed=34") + "&wait=0.5")
    assert answer.status_code == 202 and 0.4 < time.monotonic() - began < 5
    assert api.get(UNIT.replace("seed=31", "seed=35"), headers={"Sec-Fetch-Dest": "document"}).status_code == 202


def test_unit_url_errors_name_the_query_field(api, tiny):
    for query, field in (("steps=0", "steps"), ("steps=abc", "steps"), ("bogus=1", "bogus"),
                         ("learning_rate=-1", "learning_rate"), ("wait=1000", "query.wait")):
        answer = api.get(f"/v1/models/tiny/layers/conv2/filters/3.png?{query}")
        assert answer.status_code == 422 and answer.headers["content-type"] == "application/problem+json", query
        assert answer.json()["errors"][0]["field"] == field, answer.json()
    out_of_range = api.get("/v1/models/tiny/layers/conv2/filters/999.png").json()
    assert out_of_range["status"] == 422 and out_of_range["errors"][0]["field"] == "filters[0]"
    unknown = api.get("/v1/models/nope/layers/conv2/filters/1.png").json()
    assert unknown["status"] == 422 and "tiny" in unknown["detail"]


def test_an_evicted_content_url_is_rendered_again(api, tiny, run_jobs, redis):
    api.post("/v1/visualizations", json=tiny_request(filters=[4], seed=36))
    run_jobs()
    done = api.get(api.post("/v1/visualizations", json=tiny_request(filters=[4], seed=36)).headers["content-location"]).json()
    url = done["images"][0]["url"]
    original = api.get(url).content
    redis.delete(keys.image(url.split("/")[-1].removesuffix(".png")))  # evicted
    api.app.state.image_cache.clear()
    healing = api.get(url)
    assert healing.status_code == 202 and healing.headers["cache-control"] == "no-store"
    run_jobs()
    healed = api.get(url)
    assert healed.status_code == 200 and healed.content == original
    assert healed.headers["cache-control"] == "public, max-age=31536000, immutable"
