"""The `filterscope` command as a new user runs it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx

from tests.conftest import ROOT
from tests.helpers import decode_png, free_port, request, wait_for
from worker.engine.images import read_spec

CLI = [sys.executable, "-m", "filterscope"]


def test_render_writes_one_png_per_filter_without_redis(tmp_path, data_dir):
    env = dict(os.environ, FILTERSCOPE_DATA_DIR=str(data_dir), REDIS_URL="redis://127.0.0.1:1/0")
    out = subprocess.run(CLI + ["render", "--layer", "block2_conv1", "--filters", "3,4", "--steps", "8",
                                "--image-size", "24", "--out", str(tmp_path)], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    for filter_index in (3, 4):
        png = (tmp_path / f"vgg16-hed_block2_conv1_{filter_index}.png").read_bytes()
        assert decode_png(png).shape == (24, 24, 3)
        assert read_spec(png)["filter"] == filter_index
    assert "activation" in out.stdout


def test_render_rejects_a_bad_layer_with_a_clear_message(tmp_path, data_dir):
    env = dict(os.environ, FILTERSCOPE_DATA_DIR=str(data_dir))
    out = subprocess.run(CLI + ["render", "--layer", "block9", "--filters", "0", "--out", str(tmp_path)], env=env,
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 2 and "block5_conv3" in out.stderr


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
        assert len(children) == 3, commands  # redis-server, the worker and the API
        created = httpx.post(base + "/v1/visualizations", json=request(filters=[0], seed=501, steps=4)).json()
        wait_for(lambda: httpx.get(f"{base}/v1/visualizations/{created['id']}").json()["status"] == "finished",
                 120, "render through up")
        assert (tmp_path / "data" / "redis" / "appendonlydir").exists()  # its data lives in the data directory
    finally:
        up.send_signal(signal.SIGTERM)
        assert up.wait(60) == 0
    assert not [pid for pid in children if alive(pid)], commands
