"""Small interactive requests are not stuck behind a large sweep: costly work waits in the bulk
queue, workers take interactive work first, and a queued visualisation says where it stands."""

from __future__ import annotations

from core.store import jobs
from tests.helpers import run_one_job, tiny_request

SWEEP = tiny_request(filters=list(range(4)), steps=400, image_size=256)  # 1.0e8 pixel-steps: bulk


def test_an_interactive_request_finishes_while_a_sweep_queued_before_it_waits(api, redis, settings, tiny):
    sweep = api.post("/v1/visualizations", json=SWEEP).json()
    assert sweep["status"] == "queued" and sweep["queue"]["queue"] == "bulk" and sweep["queue"]["position"] == 0
    small = api.post("/v1/visualizations", json=tiny_request(seed=901)).json()
    assert small["queue"] == {"queue": "interactive", "position": 0, "estimated_start_seconds": None}
    behind = api.get(f"/v1/visualizations/{sweep['id']}").json()["queue"]
    assert behind["queue"] == "bulk" and behind["position"] == 1  # the interactive job goes first

    run_one_job(redis, settings)
    assert api.get(f"/v1/visualizations/{small['id']}").json()["status"] == "finished"
    waiting = api.get(f"/v1/visualizations/{sweep['id']}").json()
    assert waiting["status"] == "queued" and waiting["queue"]["position"] == 0
    assert waiting["queue"]["estimated_start_seconds"] > 0  # from the job that finished
    assert api.delete(f"/v1/visualizations/{sweep['id']}").status_code in (200, 202, 204)
    assert jobs.queue(redis, settings.queue_name + "-bulk").count == 0

