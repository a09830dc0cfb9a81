"""The worker's side of a job: progress written as it goes, failures recorded as typed errors."""

from __future__ import annotations

from core import defaults
from core.store import jobs
from tests.helpers import tiny_request
from worker.tasks import JobProgress


def test_progress_is_written_at_most_every_interval_and_always_at_the_end(redis, settings):
    job = jobs.queue(redis, settings.queue_name).enqueue("worker.tasks.render", {}, job_id="progress")
    now = [100.0]
    progress = JobProgress(job, clock=lambda: now[0])
    progress(1, 10)
    assert jobs.read_progress(jobs.fetch(redis, "progress")) == jobs.Progress(step=1, steps=10)
    now[0] += defaults.PROGRESS_INTERVAL / 2
    progress(2, 10)  # within the interval: not written, sparing Redis a write per step
    assert jobs.read_progress(jobs.fetch(redis, "progress")).step == 1
    now[0] += defaults.PROGRESS_INTERVAL
    progress(3, 10)
    assert jobs.read_progress(jobs.fetch(redis, "progress")).step == 3
    progress(10, 10)  # the last step is always written, whatever the time
    assert jobs.read_progress(jobs.fetch(redis, "progress")) == jobs.Progress(step=10, steps=10)


def test_a_job_that_renders_reports_its_progress_to_the_end(api, tiny, run_jobs, redis):
    created = api.post("/v1/visualizations", json=tiny_request(filters=[0, 1], seed=130, steps=9)).json()
    assert jobs.read_progress(jobs.fetch(redis, created["id"])) == jobs.Progress(step=0, steps=9)
    run_jobs()
    assert jobs.read_progress(jobs.fetch(redis, created["id"])) == jobs.Progress(step=9, steps=9)
