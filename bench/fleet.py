"""A load run over a fleet: a few hundred small jobs through the real API, rendered by 1, 2 and 4
worker processes (`filterscope worker --processes N`) against one Redis, side by side.

    python bench/fleet.py [--jobs 300] [--processes 1,2,4]

For every fleet size it prints the throughput (jobs and images per second, from the first POST to
the last job finished), its ratio to one process, and the checks that no job was lost (every
visualisation finished) and none was rendered twice (every image stored exactly once, read off the
workers' logs, and the finished-job counter equal to the jobs submitted). Each process is one
TensorFlow worker; on a host with fewer cores than processes they share the cores.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from redis import Redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.store import keys  # noqa: E402
from tests.helpers import free_port, stop, wait_for  # noqa: E402

STORED = re.compile(r"image (\w+) stored")


def start_redis(directory: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    server = subprocess.Popen([shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no", "--dir", str(directory)], stdout=subprocess.DEVNULL)
    wait_for(lambda: Redis(port=port).ping(), 10, "redis-server", server)
    return server, port


def start(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    with open(log, "ab") as stream:
        return subprocess.Popen(command, env=env, cwd=ROOT, stdout=stream, stderr=subprocess.STDOUT)


def body(seed: int) -> dict:
    return {"model": "vgg16-hed", "layer": "block1_conv2", "filters": [seed % 64],
            "params": {"steps": 8, "image_size": 24, "seed": seed}}


def wait_all(http: httpx.Client, ids: list[str], what: str, timeout: float = 1800.0) -> list[dict]:
    """Every visualisation once finished, polled once a second (only those not yet finished)."""
    states: dict[str, dict] = {}
    deadline = time.monotonic() + timeout
    while len(states) < len(ids):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: {len(ids) - len(states)} not finished after {timeout:.0f} s")
        for visualization_id in [i for i in ids if i not in states]:
            state = http.get(f"/v1/visualizations/{visualization_id}").json()
            if state["status"] not in ("queued", "running", "finished"):
                raise RuntimeError(f"{what}: {visualization_id} ended {state['status']}: {state.get('error')}")
            if state["status"] == "finished":
                states[visualization_id] = state
        time.sleep(1.0)
    return [states[i] for i in ids]


def run(processes: int, jobs: int, work: Path, redis_port: int, data_dir: Path) -> dict:
    Redis(port=redis_port).flushall()
    env = dict(os.environ, REDIS_URL=f"redis://127.0.0.1:{redis_port}/0", FILTERSCOPE_DATA_DIR=str(data_dir),
               TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=str(ROOT), FILTERSCOPE_MAX_ACTIVE_PER_KEY=str(jobs),
               FILTERSCOPE_RATE_LIMIT=f"{jobs * 10}/minute")
    log = work / f"workers-{processes}.log"
    log.unlink(missing_ok=True)
    port = free_port()
    api = start([sys.executable, "-m", "uvicorn", "service.app:create_app", "--factory", "--port", str(port)], env,
                work / "api.log")
    workers = start([sys.executable, "-m", "filterscope", "worker", "--processes", str(processes)], env, log)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            wait_for(lambda: http.get("/readyz").json().get("workers", 0) >= processes, 300, "workers ready", workers)
            began = time.perf_counter()
            ids = [http.post("/v1/visualizations", json=body(seed)).json()["id"] for seed in range(jobs)]

            states = wait_all(http, ids, f"{jobs} jobs on {processes} processes")
            seconds = time.perf_counter() - began
    finally:
        stop(workers)
        stop(api)
    stored = collections.Counter(STORED.findall(log.read_text()))
    images = [image["url"].split("/")[-1].removesuffix(".png") for s in states for image in s["images"]]
    finished = int(float(Redis(port=redis_port).hget(keys.STATS, "jobs_finished") or 0))
    return {"processes": processes, "seconds": seconds, "jobs": jobs, "images": len(images),
            "lost": jobs - sum(s["status"] == "finished" for s in states),
            "twice": sum(count > 1 for count in stored.values()), "unstored": len(set(images) - set(stored)),
            "finished_counter": finished}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=300)
    parser.add_argument("--processes", default="1,2,4")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="filterscope-fleet-"))
    server, redis_port = start_redis(work)
    data_dir = work / "data"
    print(f"machine: {os.cpu_count()} cores; {args.jobs} jobs of 1 image (vgg16-hed block1_conv2, 24 px, 8 steps)")
    print(f"{'processes':>9} {'seconds':>8} {'jobs/s':>7} {'images/s':>9} {'vs 1':>6} {'lost':>5} {'twice':>6} "
          f"{'finished':>9}")
    base = None
    try:
        for processes in (int(p) for p in args.processes.split(",")):
            result = run(processes, args.jobs, work, redis_port, data_dir)
            rate = result["jobs"] / result["seconds"]
            base = base or rate
            print(f"{processes:9d} {result['seconds']:8.1f} {rate:7.2f} {result['images'] / result['seconds']:9.2f} "
                  f"{rate / base:5.2f}x {result['lost']:5d} {result['twice'] + result['unstored']:6d} "
                  f"{result['finished_counter']:9d}", flush=True)
    finally:
        stop(server)
    print(f"logs in {work}")


if __name__ == "__main__":
    main()
