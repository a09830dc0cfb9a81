"""Live progress as Server-Sent Events: progress, each image as it lands, then the end."""

from __future__ import annotations

import threading
import time

from filterscope.client import ServerSentEvents
from tests.helpers import tiny_request


def events_of(api, visualization_id: str) -> list[tuple[str, dict]]:
    parser, events = ServerSentEvents(), []
    with api.stream("GET", f"/v1/visualizations/{visualization_id}/events") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        for line in stream.iter_lines():
            if (event := parser.feed(line)) is not None:
                events.append(event)
    return events


def test_a_followed_visualization_streams_progress_images_and_its_end(api, tiny, run_jobs, redis, settings):
    from core.store import jobs

    created = api.post("/v1/visualizations", json=tiny_request(filters=[0, 1], seed=70, steps=40)).json()
    streams = []
    follower = threading.Thread(target=lambda: streams.append(events_of(api, created["id"])))
    follower.start()
    time.sleep(0.3)
    run_jobs()
    follower.join(60)
    events = streams[0]
    names = [name for name, _ in events]
    assert names[0] == "progress" and names[-1] == "finished" and names.count("finished") == 1
    assert names.count("image") == 2
    finished = events[-1][1]
    assert finished["status"] == "finished" and finished["id"] == created["id"]
    images = [data for name, data in events if name == "image"]
    assert sorted(image["url"] for image in images) == sorted(image["url"] for image in finished["images"])
    assert all(image["quality"] and image["activation"] >= 0 for image in images)
    steps = [data["step"] for name, data in events if name == "progress"]
    assert steps == sorted(steps) and all(data["steps"] == 40 for name, data in events if name == "progress")
    assert jobs.queue(redis, settings.queue_name).count == 0


def test_a_finished_or_cancelled_visualization_tells_its_end_at_once(api, tiny, run_jobs):
    done = api.post("/v1/visualizations", json=tiny_request(filters=[3], seed=71)).json()
    run_jobs()
    assert [name for name, _ in events_of(api, done["id"])] == ["image", "finished"]
    queued = api.post("/v1/visualizations", json=tiny_request(filters=[4], seed=72)).json()
    api.delete(f"/v1/visualizations/{queued['id']}")
    events = events_of(api, queued["id"])
    assert events[-1][0] == "cancelled" and events[-1][1]["error"]["type"] == "/problems/cancelled"


def test_an_unknown_stream_is_a_404_problem_and_head_ends_at_once(api, tiny):
    missing = api.get("/v1/visualizations/" + "0" * 32 + "/events")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    queued = api.post("/v1/visualizations", json=tiny_request(seed=73)).json()
    head = api.head(f"/v1/visualizations/{queued['id']}/events")
    assert head.status_code == 200 and head.headers["content-type"].startswith("text/event-stream")
