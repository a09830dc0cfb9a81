"""`filterscope up` as a new user runs it: real processes, stopped together."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx
from redis import Redis

from tests.conftest import ROOT
from tests.helpers import free_port, request, wait_for

CLI = [sys.executable, "-m", "filterscope"]


def test_up_without_a_redis_server_binary_says_so(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(PATH=str(tmp_path), FILTERSCOPE_DATA_DIR=str(tmp_path / "data"))
    out = subprocess.run(CLI + ["up", "--port", str(free_port())], env=env, cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 2 and "redis-server" in out.stderr and "REDIS_URL" in out.stderr


def children_of(pid: int) -> set[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return {int(child) for child in found}


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False


def test_up_runs_api_worker_and_a_private_redis_and_stops_them_all(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env["FILTERSCOPE_DATA_DIR"] = str(tmp_path / "data")
    port = free_port()
    up = subprocess.Popen(CLI + ["up", "--port", str(port)], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: httpx.get(base + "/readyz").status_code == 200, 180, "filterscope up ready", up)
        children = children_of(up.pid)
        commands = {open(f"/proc/{pid}/cmdline").read().replace("\0", " ") for pid in children}
        assert len(children) == 4, commands  # two redis-servers (state, image cache), the worker and the API
        created = httpx.post(base + "/v1/visualizations", json=request(filters=[0], seed=501, steps=4)).json()
        wait_for(lambda: httpx.get(f"{base}/v1/visualizations/{created['id']}").json()["status"] == "finished",
                 120, "render through up")
        assert (tmp_path / "data" / "redis" / "appendonlydir").exists()  # its data lives in the data directory
        cache = Redis(unix_socket_path=str(tmp_path / "data" / "redis-cache" / "redis.sock"))
        assert cache.config_get("maxmemory-policy")["maxmemory-policy"] == "allkeys-lru"
        assert any(key.startswith(b"filterscope:image:") for key in cache.keys())  # the images went there
    finally:
        up.send_signal(signal.SIGTERM)
        assert up.wait(60) == 0
    assert not [pid for pid in children if alive(pid)], commands
