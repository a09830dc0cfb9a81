"""Jobs outlive their workers: real processes, a real kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
from redis import Redis

from core import defaults
from core.store import jobs, keys
from tests.conftest import ROOT
from tests.helpers import free_port, request, stop, wait_for

RECOVERY_DB = 3


def test_a_job_whose_worker_is_killed_mid_job_is_finished_by_another(service_env, redis_port, data_dir):
    redis = Redis(port=redis_port, db=RECOVERY_DB)
    redis.flushdb()
    env = dict(service_env, REDIS_URL=f"redis://127.0.0.1:{redis_port}/{RECOVERY_DB}")
    port = free_port()
    processes = [subprocess.Popen([sys.executable, "-m", "filterscope", "api", "--port", str(port)], env=env,
                                  cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    workers = {}
    try:
        for _ in range(2):
            worker = subprocess.Popen([sys.executable, "-m", "filterscope", "worker"], env=env, cwd=ROOT,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            processes.append(worker)
            workers[worker.pid] = worker
        http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
        wait_for(lambda: http.get("/readyz").json().get("workers") == 2, 180, "two workers ready")
        visualization_id = http.post("/v1/visualizations", json=request(layer="block1_conv1", filters=[0, 1],
                                                                         seed=901, steps=800)).json()["id"]
        wait_for(lambda: http.get(f"/v1/visualizations/{visualization_id}").json()["progress"]["step"] > 0, 60,
                 "the job to start")
        holder = int(jobs.fetch(redis, visualization_id).worker_name.rsplit("-", 1)[1])
        os.kill(holder, signal.SIGKILL)
        killed_at = time.monotonic()

        wait_for(lambda: http.get(f"/v1/visualizations/{visualization_id}").json()["status"] != "running", 60,
                 "the abandoned job to be noticed")
        noticed = time.monotonic() - killed_at
        done = wait_for(lambda: (v := http.get(f"/v1/visualizations/{visualization_id}").json())["status"]
                        in ("finished", "failed") and v, 120, "the job to finish elsewhere")
        assert done["status"] == "finished" and len(done["images"]) == 2
        assert noticed <= defaults.HEARTBEAT_TTL + 5, noticed  # its execution expires, the next poll sweeps
        survivor = next(pid for pid in workers if pid != holder)
        assert jobs.fetch(redis, visualization_id).worker_name.endswith(f"-{survivor}")
        wait_for(lambda: http.get("/readyz").json().get("workers") == 1, defaults.FRESH_WORKER_SECONDS + 10,
                 "readyz to forget the dead worker")
        assert redis.exists(keys.image(done["images"][0]["url"].split("/")[-1].removesuffix(".png")))
    finally:
        for process in reversed(processes):
            stop(process)
