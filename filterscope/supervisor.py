"""`filterscope worker --gpus all|0,1,… | --processes N`: one worker process per GPU (or N on a
CPU-only host), each pinned to its device, restarted when it dies, all stopped together.

A worker is one process per device because TensorFlow holds a device for the life of a process
and does not survive fork(); pinning is by CUDA_VISIBLE_DEVICES, set before TensorFlow starts.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

RESTART_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0)  # seconds before restarting a worker that died, by deaths in a row
STEADY_SECONDS = 60.0  # a worker that lived this long before dying starts its delays anew
POLL_SECONDS = 0.5


class NoGpus(RuntimeError):
    pass


def visible_gpus() -> list[str]:
    """The GPU indices `nvidia-smi` lists; TensorFlow is not loaded into the supervisor."""
    binary = shutil.which("nvidia-smi")
    if binary is None:
        raise NoGpus("--gpus all: nvidia-smi is not on PATH, so no GPU can be listed; name them (--gpus 0,1) or use "
                     "--processes N on a CPU-only host")
    listed = subprocess.run([binary, "--query-gpu=index", "--format=csv,noheader"], capture_output=True, text=True,
                            timeout=30)
    gpus = [line.strip() for line in listed.stdout.splitlines() if line.strip()]
    if listed.returncode != 0 or not gpus:
        raise NoGpus(f"--gpus all: nvidia-smi lists no GPU ({listed.stderr.strip() or 'no output'})")
    return gpus


def devices(gpus: str | None, processes: int) -> list[str | None]:
    """One entry per worker process: the GPU it is pinned to, or None (the CPU, no GPU visible)."""
    if gpus:
        chosen = visible_gpus() if gpus == "all" else [part.strip() for part in gpus.split(",") if part.strip()]
        if not chosen or not all(part.isdigit() for part in chosen):
            raise NoGpus(f"--gpus {gpus!r}: 'all' or comma-separated GPU indices such as 0,1")
        return list(dict.fromkeys(chosen))
    return [None] * processes


@dataclass
class Child:
    device: str | None
    command: list[str]
    process: subprocess.Popen | None = None
    started: float = 0.0
    deaths: int = 0  # in a row, each soon after its start
    due: float = 0.0  # when to start it (again)
    finished: bool = False  # burst mode: it emptied the queues and exited cleanly

    def start(self) -> None:
        self.process = subprocess.Popen(self.command)
        self.started = time.monotonic()

    def poll(self, now: float, burst: bool) -> None:
        if self.finished:
            return
        if self.process is None:
            if now >= self.due:
                self.start()
        elif self.process.poll() is not None:
            if burst and self.process.returncode == 0:
                self.process, self.finished = None, True
            else:
                self.died(now)

    def died(self, now: float) -> None:
        code, lived = self.process.returncode, now - self.started
        self.deaths = 1 if lived >= STEADY_SECONDS else self.deaths + 1
        delay = RESTART_DELAYS[min(self.deaths, len(RESTART_DELAYS)) - 1]
        where = f"GPU {self.device}" if self.device is not None else "the CPU"
        print(f"filterscope: the worker on {where} (pid {self.process.pid}) exited with {code} after {lived:.0f} s; "
              f"restarting it in {delay:.0f} s", file=sys.stderr, flush=True)
        self.process, self.due = None, now + delay


def worker_command(device: str | None, burst: bool) -> list[str]:
    command = [sys.executable, "-m", "filterscope", "worker"]
    command += ["--gpu", device] if device is not None else ["--cpu"]
    return command + (["--burst"] if burst else [])


def supervise(targets: list[str | None], burst: bool = False) -> int:
    """Run one worker per target until asked to stop (SIGTERM or SIGINT), restarting any that dies;
    in burst mode, until every worker has emptied the queues and exited cleanly."""
    children = [Child(device, worker_command(device, burst)) for device in targets]
    stopping: list[int] = []
    previous = {sig: signal.signal(sig, lambda number, _frame: stopping.append(number))
                for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        while not stopping and not all(child.finished for child in children):
            now = time.monotonic()
            for child in children:
                child.poll(now, burst)
            time.sleep(POLL_SECONDS)
        return 0
    finally:
        stop_all([child.process for child in children if child.process is not None])
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def stop_all(processes: list[subprocess.Popen], grace: float = 30.0) -> None:
    """SIGTERM to every worker at once (RQ finishes the job in hand, up to `grace`), then SIGKILL."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + grace
    for process in processes:
        try:
            process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
