"""A full cache never touches the state: a flood is refused past the rate, the image cache evicts
images and only images, and a state Redis that is full is reported as such."""

from __future__ import annotations

import shutil
import subprocess
from contextlib import contextmanager

from fastapi.testclient import TestClient
from redis import Redis
from redis.exceptions import OutOfMemoryError

from core.settings import Settings, get_settings
from core.store import catalog, keys, uploads
from service.app import create_app
from tests.helpers import free_port, stop, tiny_request, wait_for


@contextmanager
def redis_server(tmp_path, *options: str):
    port = free_port()
    process = subprocess.Popen([shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", str(tmp_path), *options], stdout=subprocess.DEVNULL)
    try:
        wait_for(lambda: Redis(port=port).ping(), 10, "redis-server start", process)
        yield port
    finally:
        stop(process)


def test_a_flood_is_refused_past_the_rate_and_a_full_cache_evicts_only_images(settings, redis, tiny, run_jobs,
                                                                              tmp_path, monkeypatch):
    # An empty redis-server takes about 0.9 MB: this one has room for a few hundred kB of images.
    with redis_server(tmp_path, "--maxmemory", "1300kb", "--maxmemory-policy", "allkeys-lru") as port:
        cache_url = f"redis://127.0.0.1:{port}/0"
        monkeypatch.setenv("CACHE_REDIS_URL", cache_url)  # for the worker, which reads the environment
        get_settings.cache_clear()
        flooded = Settings(**settings.model_dump() | {"cache_redis_url": cache_url, "rate_limit": "12/minute",
                                                      "max_active_per_key": 100})
        try:
            with TestClient(create_app(flooded)) as client:
                # Noisy 96 px images (the pixel method's start) and their filmstrips: about 1 MB in all.
                answers = [client.post("/v1/visualizations", json=tiny_request(filters=[n % 8], seed=200 + n, steps=3,
                                                                               image_size=96, method="pixel"))
                           for n in range(24)]
                accepted = [a.json()["id"] for a in answers if a.status_code == 202]
                assert len(accepted) == 12 and {a.status_code for a in answers[12:]} == {429}
                run_jobs()
                cache = Redis(port=port)
                assert cache.info("stats")["evicted_keys"] > 0  # the cache was full ...
                assert all(key.startswith(keys.PREFIX.encode() + b"image:") for key in cache.keys())  # ... of images
                for visualization_id in accepted:  # ... and every record and job stayed
                    assert redis.exists(keys.visualization(visualization_id))
                    polled = client.get(f"/v1/visualizations/{visualization_id}").json()
                    assert polled["status"] in ("finished", "queued")  # an evicted image is simply queued again
        finally:
            get_settings.cache_clear()


def test_a_full_state_redis_is_reported_as_full_and_loses_nothing(settings, tiny_upload, tmp_path):
    with redis_server(tmp_path, "--maxmemory", "3mb", "--maxmemory-policy", "noeviction") as port:
        state = Redis(port=port)
        uploads.save(state, tiny_upload.record)
        catalog.publish(state, tiny_upload.info)
        filler = 0
        for size in (65536, 64):  # big values, then small ones until not even the rate limiter's fit
            try:
                while True:
                    state.set(f"filler:{filler}", b"x" * size)
                    filler += 1
            except OutOfMemoryError:  # the state is full
                pass
        full = Settings(**settings.model_dump() | {"redis_url": f"redis://127.0.0.1:{port}/0", "cache_redis_url": None})
        with TestClient(create_app(full)) as client:
            answer = client.post("/v1/visualizations", json=tiny_request(seed=220))
            assert answer.status_code == 507 and answer.json()["type"] == "/problems/storage-full"
            assert "out of memory" in answer.json()["detail"]
            refused = client.delete("/v1/models/tiny")  # refused by the rate limiter's own write
            assert refused.status_code == 507 and refused.json()["type"] == "/problems/storage-full"
            assert client.get("/v1/models/tiny").status_code == 200  # what was stored is all there
        assert state.exists(f"filler:{filler - 1}")
