"""`filterscope worker --processes N | --gpus ...`: one supervised worker process per device, a dead
one restarted, all stopped together."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from redis import Redis

from core.store import jobs
from tests.conftest import ROOT
from tests.e2e.test_cli import alive, children_of
from tests.helpers import stop, wait_for

CLI = [sys.executable, "-m", "filterscope", "worker"]
SUPERVISED_DB = 3


def test_gpus_all_without_nvidia_smi_says_what_to_do_instead(tmp_path):
    env = dict(os.environ, PATH=str(tmp_path))  # no nvidia-smi here
    out = subprocess.run(CLI + ["--gpus", "all"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "nvidia-smi" in out.stderr and "--processes" in out.stderr
    bad = subprocess.run(CLI + ["--gpus", "first"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "comma-separated GPU indices" in bad.stderr


def test_a_worker_that_dies_is_restarted_and_all_stop_together(service_env, redis_port, tmp_path):
    redis = Redis(port=redis_port, db=SUPERVISED_DB)
    redis.flushdb()
    env = service_env | {"REDIS_URL": f"redis://127.0.0.1:{redis_port}/{SUPERVISED_DB}"}
    with open(tmp_path / "supervisor.log", "wb") as log:
        supervisor = subprocess.Popen(CLI + ["--processes", "2"], env=env, cwd=ROOT, stdout=log,
                                      stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: len(jobs.live_workers(redis)) == 2, 240, "two workers", supervisor)
        first = children_of(supervisor.pid)
        assert len(first) == 2
        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        restarted = wait_for(lambda: children_of(supervisor.pid) - first, 30, "a worker restarted", supervisor)
        assert children_of(supervisor.pid) & first == first - {victim}  # the other one was left alone
        (new,) = restarted
        wait_for(lambda: any(name.endswith(f"-{new}") for name in jobs.live_workers(redis)),
                 240, "the restarted worker taking jobs", supervisor)
        children = children_of(supervisor.pid)
        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(60) == 0
        assert not any(alive(pid) for pid in children)
    finally:
        stop(supervisor)
    assert "restarting it in 1 s" in (tmp_path / "supervisor.log").read_text()
