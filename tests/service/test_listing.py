"""Listing visualisations (filters, newest first, cursor paging) and cancelling them."""

from __future__ import annotations

import threading
import time

from tests.helpers import tiny_request


def test_visualizations_are_listed_newest_first_filtered_and_paged(api, tiny, run_jobs):
    ids = [api.post("/v1/visualizations", json=tiny_request(layer=layer, seed=50 + n)).json()["id"]
           for n, layer in enumerate(["conv1", "conv2", "conv2", "conv1", "conv2"])]
    run_jobs()
    queued = api.post("/v1/visualizations", json=tiny_request(seed=60)).json()["id"]  # not run

    everything = api.get("/v1/visualizations", params={"limit": 100}).json()
    assert [v["id"] for v in everything["items"]] == [queued] + ids[::-1] and everything["next_cursor"] is None
    conv2 = api.get("/v1/visualizations", params={"layer": "conv2", "status": "finished"}).json()["items"]
    assert [v["id"] for v in conv2] == [ids[4], ids[2], ids[1]]
    assert [v["id"] for v in api.get("/v1/visualizations", params={"status": "queued"}).json()["items"]] == [queued]
    assert api.get("/v1/visualizations", params={"model": "other"}).json()["items"] == []

    seen, cursor = [], None
    while True:
        page = api.get("/v1/visualizations", params={"limit": 2} | ({"cursor": cursor} if cursor else {})).json()
        seen += [v["id"] for v in page["items"]]
        cursor = page["next_cursor"]
        if not page["items"] or not cursor:
            break
    assert seen == [queued] + ids[::-1]
    bad = api.get("/v1/visualizations", params={"status": "sleeping", "limit": 0}).json()
    assert bad["status"] == 422 and {e["field"] for e in bad["errors"]} == {"query.status", "query.limit"}


def test_a_queued_visualization_is_cancelled_and_a_new_post_renders_it(api, tiny, run_jobs):
    created = api.post("/v1/visualizations", json=tiny_request(filters=[0, 1], seed=61)).json()
    cancelled = api.delete(f"/v1/visualizations/{created['id']}")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["error"]["type"] == "/problems/cancelled"
    run_jobs()
    assert api.get(f"/v1/visualizations/{created['id']}").json()["status"] == "cancelled"
    assert api.post("/v1/visualizations", json=tiny_request(filters=[0, 1], seed=61)).status_code == 202
    run_jobs()
    assert api.get(f"/v1/visualizations/{created['id']}").json()["status"] == "finished"
    assert api.delete("/v1/visualizations/" + "0" * 32).status_code == 404


def test_a_running_visualization_stops_within_moments(api, tiny, run_jobs):
    created = api.post("/v1/visualizations", json=tiny_request(filters=[2], seed=62, steps=4000)).json()
    url = f"/v1/visualizations/{created['id']}"

    def cancel_once_running() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if api.get(url).json()["progress"]["step"] > 0:
                api.delete(url)
                return
            time.sleep(0.05)

    canceller = threading.Thread(target=cancel_once_running)
    canceller.start()
    began = time.monotonic()
    run_jobs()
    canceller.join()
    stopped = api.get(url).json()
    assert stopped["status"] == "cancelled" and stopped["images"] == [], stopped
    assert stopped["progress"]["step"] < 4000 and time.monotonic() - began < 60
