"""A job whose worker died is found and requeued; a failure never turns a new POST into a 5xx."""

from __future__ import annotations

import time

from rq.registry import StartedJobRegistry
from rq.serializers import JSONSerializer

from core import defaults
from core.store import catalog, jobs, uploads
from core.store.files import RedisFiles
from service.models.inspection import inspection_job_id
from tests.conftest import TINY_MODEL_FILE
from tests.helpers import tiny_request
from tests.service.test_uploads import upload
from worker.consumer import RenderWorker


def taken_by_a_worker_that_dies(redis, settings, job_id: str):
    """A worker takes the job and starts it, then stops heartbeating (as after kill -9): its
    execution's expiry passes."""
    queue = jobs.queue(redis, settings.queue_name)
    worker = RenderWorker([queue], connection=redis, serializer=JSONSerializer)
    worker.register_birth()
    job, _ = queue.dequeue_any([queue], None, connection=redis, serializer=JSONSerializer)
    assert job.id == job_id
    execution = worker.prepare_execution(job)
    worker.prepare_job_execution(job)
    registry = StartedJobRegistry(queue=queue)
    redis.zadd(registry.key, {execution.composite_key: time.time() - 1})  # heartbeat TTL passed
    return job, execution


def test_a_job_whose_worker_died_is_requeued_on_the_next_poll_and_finished(api, tiny, redis, settings, run_jobs):
    created = api.post("/v1/visualizations", json=tiny_request(filters=[1, 2], seed=140)).json()
    taken_by_a_worker_that_dies(redis, settings, created["id"])
    assert jobs.fetch(redis, created["id"]).get_status() == jobs.JobStatus.STARTED

    polled = api.get(f"/v1/visualizations/{created['id']}").json()
    assert polled["status"] == "queued"  # requeued, not "running" for an hour
    assert jobs.fetch(redis, created["id"]).retries_left == defaults.MAX_REQUEUES - 1
    run_jobs()  # another worker
    assert api.get(f"/v1/visualizations/{created['id']}").json()["status"] == "finished"


def test_a_job_abandoned_too_often_fails_and_a_new_post_renders_it(api, tiny, redis, settings, run_jobs):
    body = tiny_request(filters=[3], seed=141)
    created = api.post("/v1/visualizations", json=body).json()
    job, execution = taken_by_a_worker_that_dies(redis, settings, created["id"])
    job.retries_left = 0
    job.save()
    failed = api.get(f"/v1/visualizations/{created['id']}").json()
    assert failed["status"] == "failed" and failed["error"]["status"] == 500
    redis.delete(execution.key)  # its execution record expired too, as it does a little later

    again = api.post("/v1/visualizations", json=body)
    assert again.status_code == 202 and again.json()["status"] == "queued"
    run_jobs()
    assert api.get(f"/v1/visualizations/{created['id']}").json()["status"] == "finished"


def test_an_error_while_rendering_is_not_retried(api, redis, run_jobs, tiny_upload):
    # In the catalog, but no worker can load it.
    catalog.publish(redis, tiny_upload.info.model_copy(update={"id": "gone", "source": "builtin"}))
    created = api.post("/v1/visualizations", json=tiny_request(seed=142) | {"model": "gone"}).json()
    run_jobs()
    assert jobs.fetch(redis, created["id"]).get_status() == jobs.JobStatus.FAILED
    assert jobs.fetch(redis, created["id"]).retries_left == 0


def inspection_of(redis, model_id: str) -> str:
    return inspection_job_id(model_id, uploads.get(redis, model_id).file_sha256[:16])


def test_an_upload_whose_inspecting_worker_died_is_inspected_by_another(api, redis, settings, run_jobs):
    upload(api, TINY_MODEL_FILE.read_bytes(), "orphaned", input_range="0,1")
    taken_by_a_worker_that_dies(redis, settings, inspection_of(redis, "orphaned"))
    assert api.get("/v1/models/orphaned").json()["status"] == "inspecting"
    requeued = jobs.fetch(redis, inspection_of(redis, "orphaned"))  # by the poll, for another worker
    assert requeued.get_status() == jobs.JobStatus.QUEUED and requeued.retries_left == defaults.MAX_REQUEUES - 1
    run_jobs()
    assert api.get("/v1/models/orphaned").json()["status"] == "ready"


def test_an_upload_whose_inspection_was_lost_or_failed_for_good_is_not_left_inspecting(api, redis, settings,
                                                                                        run_jobs):
    upload(api, TINY_MODEL_FILE.read_bytes(), "forgotten", input_range="0,1")
    redis.delete(f"rq:job:{inspection_of(redis, 'forgotten')}")  # lost with a Redis restarted empty
    api.get("/v1/models/forgotten")  # asks for it again
    run_jobs()
    assert api.get("/v1/models/forgotten").json()["status"] == "ready"

    upload(api, TINY_MODEL_FILE.read_bytes()[:-1] + b"!", "doomed", input_range="0,1")
    job, _ = taken_by_a_worker_that_dies(redis, settings, inspection_of(redis, "doomed"))
    job.retries_left = 0  # its workers died every time
    job.save()
    rejected = api.get("/v1/models/doomed").json()
    assert rejected["status"] == "rejected" and "worker stopped" in rejected["detail"]
    assert not RedisFiles(redis).exists(uploads.get(redis, "doomed").file_sha256)  # a rejected file is not kept
