"""Workers anywhere: two workers with their own data directories and no shared files take an
uploaded model from Redis alone, and render the same pixels for the same request."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest
from redis import Redis

from core.store import keys, uploads
from tests.conftest import ROOT, TINY_MODEL_FILE
from tests.e2e.conftest import start_api
from tests.helpers import decode_png, stop, tiny_request

FLEET_DB = 2


@pytest.fixture
def fleet(redis_port, service_env, tmp_path):
    """An API process and the environments of two worker machines, each with its own data directory."""
    Redis(port=redis_port, db=FLEET_DB).flushdb()
    url = f"redis://127.0.0.1:{redis_port}/{FLEET_DB}"
    envs = {name: service_env | {"REDIS_URL": url, "FILTERSCOPE_DATA_DIR": str(tmp_path / name)}
            for name in ("api", "worker-a", "worker-b")}
    envs["api"]["FILTERSCOPE_API_CACHE_MB"] = "0"  # every image read from Redis, as a cold API replica does
    api = start_api(envs["api"], tmp_path / "api.log")
    with httpx.Client(base_url=api.base_url, timeout=30) as http:
        yield http, envs, tmp_path
    stop(api)


def run_worker(env: dict, log) -> None:
    """One worker machine, until the queues are empty."""
    done = subprocess.run([sys.executable, "-m", "filterscope", "worker", "--burst"], env=env, cwd=ROOT,
                          stdout=log, stderr=subprocess.STDOUT, timeout=300)
    assert done.returncode == 0


def test_an_upload_is_rendered_by_either_worker_with_identical_pixels(fleet, redis_port):
    http, envs, root = fleet
    redis = Redis(port=redis_port, db=FLEET_DB)
    uploaded = http.post("/v1/models", files={"file": ("m.keras", TINY_MODEL_FILE.read_bytes())},
                         data={"id": "fleet-cnn", "name": "fleet", "preprocessing": "none", "input_range": "0,1"})
    assert uploaded.status_code == 202, uploaded.text
    with open(root / "workers.log", "ab") as log:
        run_worker(envs["worker-a"], log)  # inspects it
        model = http.get("/v1/models/fleet-cnn").json()
        assert model["status"] == "ready", model

        body = tiny_request(filters=[0, 1], seed=1101) | {"model": "fleet-cnn"}
        created = http.post("/v1/visualizations", json=body).json()
        run_worker(envs["worker-b"], log)  # never saw the model: fetches it from Redis
        done = http.get(f"/v1/visualizations/{created['id']}").json()
        assert done["status"] == "finished", done
        by_b = [decode_png(http.get(image["url"]).content) for image in done["images"]]

        for image in done["images"]:  # evicted from the cache: the content URL renders them again
            redis.delete(keys.image(image["url"].split("/")[-1].removesuffix(".png")))
        assert http.get(done["images"][0]["url"]).status_code == 202
        run_worker(envs["worker-a"], log)
        by_a = [decode_png(http.get(image["url"]).content) for image in done["images"]]

    for a, b in zip(by_a, by_b, strict=True):
        assert (a == b).all()
    for name in ("worker-a", "worker-b"):  # each fetched the file into its own cache; nothing was shared
        cached = list((root / name / "models" / "files").glob("*.keras"))
        assert [path.stem for path in cached] == [uploads.get(redis, "fleet-cnn").file_sha256]
    assert not (root / "api" / "models").exists()  # the API kept no file of its own
