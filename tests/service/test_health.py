from __future__ import annotations

from datetime import datetime, timedelta, timezone

from fastapi.testclient import TestClient
from rq import SimpleWorker
from rq.utils import utcformat

from core import defaults
from core.store import jobs
from service.app import create_app
from tests.helpers import free_port


def test_healthz_says_the_api_is_alive(api):
    assert api.get("/healthz").json() == {"status": "ok"}


def test_readyz_counts_only_workers_with_a_fresh_heartbeat(api, redis, settings):
    answer = api.get("/readyz")
    assert answer.status_code == 503 and answer.headers["content-type"] == "application/problem+json"
    assert "worker" in answer.json()["detail"]
    worker = SimpleWorker([jobs.queue(redis, settings.queue_name)], connection=redis)
    worker.register_birth()
    worker.heartbeat()
    ready = api.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"status": "ready", "workers": 1}
    # Counting workers leaves the API's short Redis timeout as it was (RQ's Worker objects raise it).
    assert api.app.state.redis.connection_pool.connection_kwargs["socket_timeout"] == settings.redis_timeout
    # A worker killed without a goodbye keeps its registration for a while; its heartbeat ages.
    stale = datetime.now(timezone.utc) - timedelta(seconds=defaults.FRESH_WORKER_SECONDS + 1)
    redis.hset(worker.key, "last_heartbeat", utcformat(stale))
    assert api.get("/readyz").status_code == 503


def test_readyz_is_503_with_the_reason_when_redis_is_away(settings):
    away = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    with TestClient(create_app(away)) as client:
        answer = client.get("/readyz")
        assert answer.status_code == 503 and answer.headers["content-type"] == "application/problem+json"
        assert "Redis" in answer.json()["detail"]
        assert client.get("/healthz").status_code == 200
        posted = client.post("/v1/visualizations", json={"model": "vgg16-hed", "layer": "block1_conv1", "filters": [0]})
        assert posted.status_code == 503 and posted.headers["retry-after"]  # the rate limiter's Redis is away too


def test_readyz_is_503_when_only_the_image_cache_is_away(settings, redis):
    worker = SimpleWorker([jobs.queue(redis, settings.queue_name)], connection=redis)
    worker.register_birth()
    worker.heartbeat()
    cache_away = settings.model_copy(update={"cache_redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    with TestClient(create_app(cache_away)) as client:
        answer = client.get("/readyz")
        assert answer.status_code == 503 and "image cache" in answer.json()["detail"]
