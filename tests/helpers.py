"""Small helpers the tests share: submitting a visualisation and waiting for it."""

from __future__ import annotations

import io
import time

import httpx
import numpy as np
from PIL import Image

FINISH_TIMEOUT = 240.0
JOBS_CREATED = "filterscope:stats:jobs_created"


def request(layer: str = "block3_conv1", filters=(0,), seed: int = 0, **params) -> dict:
    return {"model": "vgg16-hed", "layer": layer, "filters": list(filters),
            "params": {"steps": 12, "image_size": 32, "seed": seed, **params}}


def wait_finished(api: httpx.Client, visualization_id: str, timeout: float = FINISH_TIMEOUT) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = api.get(f"/v1/visualizations/{visualization_id}").json()
        if body["status"] in ("finished", "failed"):
            return body
        time.sleep(0.1)
    raise TimeoutError(f"visualisation {visualization_id} did not finish within {timeout:.0f} s")


def decode_png(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
