"""A failed job says why, with the problem type and status of its kind."""

from __future__ import annotations

from core.models import LayerInfo, ModelInfo
from core.store import catalog, uploads
from core.store.jobs import JobError
from service.problems import job_problem
from tests.helpers import tiny_request


def test_a_model_no_worker_can_load_fails_as_unavailable(api, redis, run_jobs):
    # A model in the catalog that no worker can load, as after its file was removed.
    catalog.publish(redis, ModelInfo(id="ghost", name="ghost", fingerprint="0" * 64, input_shape=[None, None, 3],
                                     layers=[LayerInfo(name="conv", type="Conv2D", filters=4,
                                                       output_shape=[224, 224, 4])]))
    created = api.post("/v1/visualizations", json={"model": "ghost", "layer": "conv", "filters": [0]})
    assert created.status_code == 202
    run_jobs()
    failed = api.get(f"/v1/visualizations/{created.json()['id']}").json()
    assert failed["status"] == "failed" and failed["images"] == []
    assert failed["error"]["type"] == "/problems/model-unavailable" and failed["error"]["status"] == 409
    assert "ghost" in failed["error"]["detail"]


def test_a_model_changed_since_the_request_fails_as_stale_and_asks_to_submit_again(api, redis, run_jobs, tiny,
                                                                                  tiny_upload):
    # The request is validated against one version of the upload; the worker finds another.
    catalog.publish(redis, tiny_upload.info.model_copy(update={"fingerprint": "e" * 64}))
    uploads.save(redis, tiny_upload.record.model_copy(update={"fingerprint": "e" * 64}))
    created = api.post("/v1/visualizations", json=tiny_request(seed=120)).json()
    uploads.save(redis, tiny_upload.record)
    run_jobs()
    failed = api.get(f"/v1/visualizations/{created['id']}").json()
    assert failed["error"]["type"] == "/problems/stale-model" and failed["error"]["status"] == 409
    assert "submit it again" in failed["error"]["detail"]


def test_a_poll_leaves_a_failure_and_a_new_post_retries_it(api, redis, run_jobs):
    catalog.publish(redis, ModelInfo(id="ghost", name="ghost", fingerprint="0" * 64, input_shape=[None, None, 3],
                                     layers=[LayerInfo(name="conv", type="Conv2D", filters=4,
                                                       output_shape=[224, 224, 4])]))
    body = {"model": "ghost", "layer": "conv", "filters": [1]}
    visualization_id = api.post("/v1/visualizations", json=body).json()["id"]
    run_jobs()
    assert api.get(f"/v1/visualizations/{visualization_id}").json()["status"] == "failed"
    assert api.get(f"/v1/visualizations/{visualization_id}").json()["status"] == "failed"  # not retried by polls
    again = api.post("/v1/visualizations", json=body)
    assert again.status_code == 202 and again.json()["status"] == "queued"


def test_an_unexpected_failure_is_a_500_render_failed_problem():
    problem = job_problem(JobError.of(MemoryError("out of memory")))
    assert problem == {"type": "/problems/render-failed", "title": "Rendering failed", "status": 500,
                       "detail": "out of memory"}
