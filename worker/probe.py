"""A first load of an uploaded model in a child process, watched for memory and time, so that a
hostile file (a config whose layers multiply into billions of weights, say) kills only the child.

    python -m worker.probe FILE      loads FILE as the worker would, prints its weight count
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from core.errors import UnusableModel

POLL_SECONDS = 0.05
MB = 1024**2


def resident_bytes(pid: int) -> int:
    """The process's resident memory (Linux); 0 where /proc is not there to say."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    line = next((line for line in status.splitlines() if line.startswith("VmRSS:")), "VmRSS: 0 kB")
    return int(line.split()[1]) * 1024


def probe(path: Path, memory_limit: int, time_limit: float) -> None:
    """Load the model in a child; raise UnusableModel if it fails, or passes either limit."""
    # The child sees no GPU (it must not reserve accelerator memory the worker needs) and writes its
    # errors to a file: a pipe nobody drains while it runs could fill and stall it.
    environment = os.environ | {"CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "3"}
    with tempfile.TemporaryFile("w+") as errors:
        child = subprocess.Popen([sys.executable, "-m", "worker.probe", str(path)], stdout=subprocess.DEVNULL,
                                 stderr=errors, env=environment, text=True)
        watch(child, memory_limit, time_limit)
        if child.returncode != 0:
            errors.seek(max(0, errors.seek(0, os.SEEK_END) - 4000))
            last = (errors.read().strip().splitlines() or [f"exit code {child.returncode}"])[-1]
            raise UnusableModel(f"the model could not be loaded: {last}")


def watch(child: subprocess.Popen, memory_limit: int, time_limit: float) -> None:
    """Wait for the child, killing it past either limit."""
    deadline = time.monotonic() + time_limit
    peak = 0
    while child.poll() is None:
        peak = max(peak, resident_bytes(child.pid))
        if peak > memory_limit or time.monotonic() > deadline:
            child.kill()
            child.wait()
            if peak > memory_limit:
                raise UnusableModel(f"loading the model took more than {memory_limit // MB} MB of memory")
            raise UnusableModel(f"loading the model took longer than {time_limit:.0f} s")
        time.sleep(POLL_SECONDS)


def main(path: str) -> int:
    import keras

    model = keras.saving.load_model(path, compile=False, safe_mode=True)
    print(model.count_params())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
