from __future__ import annotations

import subprocess
import sys

import httpx

from tests.conftest import ROOT, free_port, stop, wait_for


def test_healthz_and_readyz_with_a_worker(api):
    assert api.get("/healthz").json() == {"status": "ok"}
    ready = api.get("/readyz")
    assert ready.status_code == 200 and ready.json()["workers"] >= 1


def test_readyz_is_503_with_the_reason_when_no_worker_or_no_redis(service_env, redis_url):
    # A second API on a Redis database no worker uses, then on a port where no Redis listens.
    for url, reason in ((redis_url.rsplit("/", 1)[0] + "/5", "worker"), (f"redis://127.0.0.1:{free_port()}/0", "Redis")):
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "service.app:create_app", "--factory", "--port", str(port)],
            env=dict(service_env, REDIS_URL=url), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for(lambda: httpx.get(base + "/healthz").status_code == 200, 60, "API start", process)
            answer = httpx.get(base + "/readyz")
            assert answer.status_code == 503
            assert answer.headers["content-type"] == "application/problem+json"
            assert reason in answer.json()["detail"]
        finally:
            stop(process)
