"""The thin end-to-end layer: the API under uvicorn and a worker, as real processes, on their own
Redis database (never flushed during the run)."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest
from redis import Redis

from core.store import keys
from tests.conftest import ROOT
from tests.helpers import free_port, stop, wait_for

E2E_DB = 1
START_TIMEOUT = 180.0


@pytest.fixture(scope="session")
def service_env(redis_port, data_dir, settings) -> dict[str, str]:
    return dict(os.environ, REDIS_URL=f"redis://127.0.0.1:{redis_port}/{E2E_DB}", FILTERSCOPE_DATA_DIR=str(data_dir),
                TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=str(ROOT))


@pytest.fixture(scope="session")
def e2e_redis(redis_port) -> Redis:
    return Redis(port=redis_port, db=E2E_DB)


@pytest.fixture(scope="session")
def worker_process(service_env, e2e_redis, data_dir):
    """One worker process; ready once it has published vgg16-hed to the catalog."""
    with open(data_dir / "worker.log", "wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "filterscope", "worker"], env=service_env, cwd=ROOT,
                                   stdout=log, stderr=subprocess.STDOUT)
        wait_for(lambda: e2e_redis.hexists(keys.MODELS, "vgg16-hed"), START_TIMEOUT, "worker start", process)
        yield process
        stop(process)


def start_api(env: dict[str, str], log_path) -> subprocess.Popen:
    """The API under uvicorn on a free port, ready to answer."""
    port = free_port()
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "service.app:create_app", "--factory", "--host", "127.0.0.1",
             "--port", str(port)],
            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        )
    process.base_url = f"http://127.0.0.1:{port}"
    wait_for(lambda: httpx.get(process.base_url + "/healthz").status_code == 200, 60, "API start", process)
    return process


@pytest.fixture(scope="session")
def api_process(service_env, data_dir):
    process = start_api(service_env, data_dir / "api.log")
    yield process
    stop(process)


@pytest.fixture(scope="session")
def http(api_process, worker_process) -> httpx.Client:
    """A real HTTP client of the running API, with a worker process behind it."""
    with httpx.Client(base_url=api_process.base_url, timeout=30) as client:
        yield client


def wait_finished(http: httpx.Client, visualization_id: str, timeout: float = 240.0) -> dict:
    return wait_for(lambda: (body := http.get(f"/v1/visualizations/{visualization_id}").json())["status"]
                    in ("finished", "failed") and body, timeout, f"visualisation {visualization_id} to finish")
