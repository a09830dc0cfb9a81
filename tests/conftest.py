"""Shared, real parts for the whole test run: one private redis-server on a free port, one data
directory, one API (uvicorn) and one worker as subprocesses, and one in-process vgg16-hed."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from redis import Redis

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 180.0
UPLOAD_LIMIT_MB = 80  # above the 59 MB vgg16-hed file, low enough to test the limit cheaply


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(predicate, timeout: float, what: str, process: subprocess.Popen | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what}: the process exited with code {process.returncode}")
        try:
            result = predicate()
            if result:
                return result
        except Exception:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{what} did not happen within {timeout:.0f} s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory) -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed; .ci/run installs it (apt-get install redis-server)")
    port = free_port()
    directory = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(directory), "--maxmemory-policy", "volatile-lru"],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    wait_for(lambda: Redis.from_url(url).ping(), 10, "redis-server start", process)
    yield url
    stop(process)


@pytest.fixture(scope="session")
def redis(redis_url) -> Redis:
    return Redis.from_url(redis_url)


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="session")
def service_env(redis_url, data_dir) -> dict[str, str]:
    env = dict(os.environ, REDIS_URL=redis_url, FILTERSCOPE_DATA_DIR=str(data_dir), TF_CPP_MIN_LOG_LEVEL="2",
               PYTHONPATH=str(ROOT), FILTERSCOPE_MAX_UPLOAD_MB=str(UPLOAD_LIMIT_MB))
    os.environ.update({"REDIS_URL": redis_url, "FILTERSCOPE_DATA_DIR": str(data_dir)})
    return env


@pytest.fixture(scope="session")
def worker_process(service_env, redis, data_dir):
    """One worker for the whole run; ready once it has published vgg16-hed to the catalog."""
    log = open(data_dir / "worker.log", "wb")
    process = subprocess.Popen([sys.executable, "-m", "service.cli", "worker"], env=service_env, cwd=ROOT,
                               stdout=log, stderr=subprocess.STDOUT)
    wait_for(lambda: redis.hexists("filterscope:models", "vgg16-hed"), START_TIMEOUT, "worker start", process)
    yield process
    stop(process)
    log.close()


@pytest.fixture(scope="session")
def api_process(service_env, data_dir):
    port = free_port()
    log = open(data_dir / "api.log", "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "service.app:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port)],
        env=service_env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    wait_for(lambda: httpx.get(base_url + "/healthz").status_code == 200, 60, "API start", process)
    process.base_url = base_url
    yield process
    stop(process)
    log.close()


@pytest.fixture(scope="session")
def api(api_process, worker_process) -> httpx.Client:
    """An HTTP client of the running API, with a worker behind it."""
    with httpx.Client(base_url=api_process.base_url, timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
def vgg16(data_dir):
    """vgg16-hed loaded in the test process, for engine tests."""
    from worker.models.registry import ModelRegistry

    return ModelRegistry(data_dir / "models").get("vgg16-hed")
