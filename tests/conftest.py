"""Shared, real parts for the whole run: one private redis-server on a free port (a flushed
database per in-process test), one data directory, the API in process behind an HTTP client
transport, RQ's worker in burst mode in this process, and models loaded once."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import NamedTuple

import pytest
from fastapi.testclient import TestClient
from redis import Redis
from rq.serializers import JSONSerializer

from core.models import ModelInfo
from core.preprocessing import preprocessing_spec
from core.settings import Settings, get_settings
from core.store import catalog, jobs, uploads
from core.store.files import RedisFiles
from tests.helpers import free_port, stop, wait_for

ROOT = Path(__file__).resolve().parents[1]
TINY_MODEL_FILE = ROOT / "tests" / "data" / "tiny-cnn.keras"
UPLOAD_LIMIT_MB = 80  # above the 59 MB vgg16-hed file, low enough to test the limit cheaply
IN_PROCESS_DB = 0  # flushed before every in-process test; end-to-end processes use their own


@pytest.fixture(scope="session")
def redis_port(tmp_path_factory) -> int:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed; .ci/run installs it (apt-get install redis-server)")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path_factory.mktemp("redis")), "--maxmemory-policy", "volatile-lru"],
        stdout=subprocess.DEVNULL,
    )
    wait_for(lambda: Redis(port=port).ping(), 10, "redis-server start", process)
    yield port
    stop(process)


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="session")
def settings(redis_port, data_dir) -> Settings:
    """The environment's settings, which the in-process worker reads as a worker process would."""
    os.environ.update(REDIS_URL=f"redis://127.0.0.1:{redis_port}/{IN_PROCESS_DB}", FILTERSCOPE_DATA_DIR=str(data_dir),
                      FILTERSCOPE_MAX_UPLOAD_MB=str(UPLOAD_LIMIT_MB), TF_CPP_MIN_LOG_LEVEL="2")
    get_settings.cache_clear()
    return get_settings()


@pytest.fixture
def redis(settings) -> Redis:
    """The in-process database, empty at the start of the test."""
    connection = Redis.from_url(settings.effective_redis_url)
    connection.flushdb()
    yield connection
    connection.close()


@pytest.fixture(scope="session")
def app_client(settings) -> TestClient:
    from service.app import create_app

    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def api(app_client, redis) -> TestClient:
    """The API in this process, over an empty database and with nothing in its memory."""
    app_client.app.state.image_cache.clear()
    return app_client


@pytest.fixture
def run_jobs(redis, settings):
    """Run every queued job in this process, as a worker process does, until the queue is empty."""
    from worker.consumer import RenderWorker

    def run() -> None:
        worker = RenderWorker(jobs.queues(redis, settings.queue_name), connection=redis, serializer=JSONSerializer)
        worker.work(burst=True, logging_level="WARNING")

    return run


@pytest.fixture(scope="session")
def registry(settings):
    """The worker's process-wide registry: models load once per run."""
    from worker.models.registry import current

    return current(settings)


@pytest.fixture(scope="session")
def vgg16(registry):
    """vgg16-hed loaded once, for engine tests and the in-process worker alike."""
    return registry.get("vgg16-hed")


@pytest.fixture
def vgg16_in_catalog(redis, vgg16) -> str:
    """vgg16-hed published to the catalog, as a worker does when it starts."""
    catalog.publish(redis, vgg16.info)
    return vgg16.info.id


class Inspected(NamedTuple):
    record: uploads.UploadRecord
    info: ModelInfo


@pytest.fixture(scope="session")
def tiny_upload(settings, registry) -> Inspected:
    """A small fixed CNN (conv1, conv2, classes) stored as an upload, inspected once."""
    file_sha256 = RedisFiles(Redis.from_url(settings.effective_redis_url)).put(TINY_MODEL_FILE.read_bytes())
    record = uploads.UploadRecord(id="tiny", name="tiny CNN", file_sha256=file_sha256,
                                  preprocessing=preprocessing_spec("none", (0.0, 1.0)), status="ready")
    info = registry.get(record.id, record).info
    return Inspected(record.model_copy(update={"fingerprint": info.fingerprint}), info)


@pytest.fixture
def tiny(redis, tiny_upload) -> str:
    """The tiny CNN uploaded and inspected: in the catalog, ready to render."""
    RedisFiles(redis).put(TINY_MODEL_FILE.read_bytes())
    uploads.save(redis, tiny_upload.record)
    catalog.publish(redis, tiny_upload.info)
    return tiny_upload.record.id
