"""The queue consumer: RQ's non-forking worker, with a heartbeat while a job runs.

RQ's SimpleWorker runs a job in its own thread and renews nothing until the job ends, so a job
whose worker was killed looks alive for the whole job timeout. Here a thread renews the job's
execution every HEARTBEAT_INTERVAL seconds with a TTL of HEARTBEAT_TTL: when the process dies, the
execution expires within seconds and the next sweep (RQ's registry cleanup, run by idle workers
and by the API when a running job is polled) requeues the job for another worker.
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from typing import Callable

from redis.exceptions import RedisError
from rq import SimpleWorker
from rq.job import Job
from rq.queue import Queue
from rq.worker import WorkerStatus

from core import defaults

log = logging.getLogger("filterscope.worker")


@contextmanager
def beating(beat: Callable[[], None], interval: float):
    """Call `beat` every `interval` seconds in a thread while the block runs."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(interval):
            try:
                beat()
            except Exception as error:  # a blip, or anything else: the next beat tries again
                log.warning("heartbeat failed: %s: %s", type(error).__name__, error)

    thread = threading.Thread(target=loop, name="heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


class RenderWorker(SimpleWorker):
    """`upkeep` runs with RQ's maintenance, every MAINTENANCE_INTERVAL seconds while idle: the
    worker's own chores, such as republishing a catalog that a restarted Redis lost."""

    upkeep: Callable[[], None] | None = None

    def run_maintenance_tasks(self) -> None:
        super().run_maintenance_tasks()
        if self.upkeep is not None:
            try:
                self.upkeep()
            except RedisError as error:
                log.warning("upkeep failed: %s", error)

    def get_heartbeat_ttl(self, job: Job, working_time: float = 0.0) -> int:
        return defaults.HEARTBEAT_TTL

    def execute_job(self, job: Job, queue: Queue) -> None:
        execution = self.prepare_execution(job)
        with beating(lambda: self.maintain_heartbeats(job, execution), defaults.HEARTBEAT_INTERVAL):
            self.perform_job(job, queue, execution)
        self.set_state(WorkerStatus.IDLE)
