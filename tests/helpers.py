"""Small helpers the tests share."""

from __future__ import annotations

import io
import socket
import subprocess
import time

import numpy as np
from PIL import Image


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(predicate, timeout: float, what: str, process: subprocess.Popen | None = None):
    """Poll `predicate` until it returns something true; on timeout, say what it last raised."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what}: the process exited with code {process.returncode}")
        try:
            result = predicate()
            if result:
                return result
        except Exception as error:  # noqa: BLE001 - kept for the timeout message
            last_error = error
        time.sleep(0.1)
    raise TimeoutError(f"{what} did not happen within {timeout:.0f} s"
                       + (f"; last error: {last_error!r}" if last_error else ""))


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def request(model: str = "vgg16-hed", layer: str = "block3_conv1", filters=(0,), seed: int = 0, **params) -> dict:
    body = {"model": model, "layer": layer, "params": {"steps": 12, "image_size": 32, "seed": seed, **params}}
    if filters is not None:
        body["filters"] = list(filters)
    return body


def tiny_request(layer: str = "conv2", filters=(0,), seed: int = 0, **params) -> dict:
    return request("tiny", layer, filters, seed, **({"steps": 6, "image_size": 16} | params))


def decode_png(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def run_one_job(redis, settings) -> None:
    """One job, taken as a worker takes it (interactive queue first), run in this process."""
    from rq.serializers import JSONSerializer

    from core.store import jobs
    from worker.consumer import RenderWorker

    worker = RenderWorker(jobs.queues(redis, settings.queue_name), connection=redis, serializer=JSONSerializer)
    worker.work(burst=True, max_jobs=1, logging_level="WARNING")
