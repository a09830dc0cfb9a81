"""A Filterscope worker: one process (one per GPU), models loaded once and kept, no fork per job.

TensorFlow and CUDA do not survive fork(), and reloading a model for every job wastes the GPU, so
jobs run in this process through RQ's SimpleWorker.
"""

from __future__ import annotations

import logging
import os
import socket

from redis import Redis
from rq.serializers import JSONSerializer

from core import defaults
from core.settings import Settings
from core.store import catalog, jobs
from worker.consumer import RenderWorker

log = logging.getLogger("filterscope.worker")


def configure_tensorflow() -> None:
    import tensorflow as tf

    for gpu in tf.config.list_physical_devices("GPU"):
        # Take GPU memory as needed rather than all of it at start.
        tf.config.experimental.set_memory_growth(gpu, True)


def load_and_publish(settings: Settings, redis: Redis) -> None:
    from worker.models.registry import current

    registry = current(settings)
    for model_id in registry.builtin_ids():
        loaded = registry.get(model_id)
        catalog.publish(redis, loaded.info)
        log.info("loaded %s (fingerprint %s…), %d layers", model_id, loaded.info.fingerprint[:12], len(loaded.info.layers))


def republish_missing(settings: Settings, redis: Redis) -> None:
    """Publish the built-in models again if the catalog lost them (a Redis restarted empty)."""
    from worker.models.registry import current

    registry = current(settings)
    for model_id in registry.builtin_ids():
        if catalog.published(redis, model_id) is None:
            catalog.publish(redis, registry.get(model_id).info)
            log.info("republished %s to the catalog", model_id)


def run(settings: Settings, burst: bool = False) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    configure_tensorflow()
    redis = Redis.from_url(settings.effective_redis_url)
    load_and_publish(settings, redis)
    name = f"filterscope-{socket.gethostname()}-{os.getpid()}"
    # Interactive work first: RQ takes a job from the first queue that has one.
    worker = RenderWorker(jobs.queues(redis, settings.queue_name), connection=redis, serializer=JSONSerializer,
                          name=name, worker_ttl=defaults.WORKER_TTL, maintenance_interval=defaults.MAINTENANCE_INTERVAL)
    worker.upkeep = lambda: republish_missing(settings, redis)
    worker.work(burst=burst, logging_level="INFO")
