"""Cache hits, side by side: `filterscope api` against nginx serving the same PNG file, measured
with wrk on this machine in one run.

    python bench/serve.py [--seconds 10] [--connections 32] [--workers 1,2]

Needs redis-server, nginx and wrk on PATH (Debian: apt-get install redis-server nginx-light wrk).
Prints requests per second and p99 latency for each, and the API's share of nginx's rate.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image
from redis import Redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.quality import ImageQuality
from core.store.images import ImageStore, NewImage  # noqa: E402

QUALITY = ImageQuality(alive=True, robust_activation=1.0, high_frequency_share=0.1, clipped_share=0.0)

KEY = "5e" * 16


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {port}")


def sample_png() -> bytes:
    """A 128 px image with a little noise: about the size of a rendered one."""
    rng = np.random.default_rng(0)
    smooth = np.kron(rng.integers(0, 255, (16, 16, 3)), np.ones((8, 8, 1)))
    pixels = np.clip(smooth + rng.normal(0, 12, smooth.shape), 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")
    return out.getvalue()


def wrk(url: str, seconds: int, connections: int) -> tuple[float, str]:
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url],
                         capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE).group(1)
    return rate, p99


def nginx(directory: Path, port: int) -> subprocess.Popen:
    config = directory / "nginx.conf"
    config.write_text(f"""
worker_processes auto; daemon off; pid {directory}/nginx.pid; error_log {directory}/error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off; client_body_temp_path {directory}; proxy_temp_path {directory};
  fastcgi_temp_path {directory}; uwsgi_temp_path {directory}; scgi_temp_path {directory};
  server {{ listen 127.0.0.1:{port}; root {directory}; etag on;
           location / {{ add_header Cache-Control "public, max-age=31536000, immutable"; }} }}
}}""")
    return subprocess.Popen([shutil.which("nginx") or "/usr/sbin/nginx", "-c", str(config)])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", default="1,2", help="API process counts to measure")
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp())
    png = sample_png()
    (directory / f"{KEY}.png").write_bytes(png)
    redis_port = free_port()
    processes = [subprocess.Popen(["redis-server", "--port", str(redis_port), "--save", "", "--appendonly", "no"],
                                  stdout=subprocess.DEVNULL)]
    try:
        wait_port(redis_port)
        ImageStore(Redis(port=redis_port), Redis(port=redis_port), 3600).put(KEY, NewImage(png, 1.0, [1.0], b"", QUALITY), "bench", "0" * 64)
        print(f"one cached PNG of {len(png):,} bytes; wrk -t2 -c{args.connections} -d{args.seconds}s; "
              f"{os.cpu_count()} CPUs")
        port = free_port()
        processes.append(nginx(directory, port))
        wait_port(port)
        reference, p99 = wrk(f"http://127.0.0.1:{port}/{KEY}.png", args.seconds, args.connections)
        print(f"{'nginx':24s} {reference:10.0f} req/s  p99 {p99:>8s}  1.00")
        for workers in (int(n) for n in args.workers.split(",")):
            port = free_port()
            env = dict(os.environ, REDIS_URL=f"redis://127.0.0.1:{redis_port}/0", FILTERSCOPE_API_WORKERS=str(workers))
            api = subprocess.Popen([sys.executable, "-m", "filterscope", "api", "--port", str(port)], env=env,
                                   cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            processes.append(api)
            wait_port(port)
            rate, p99 = wrk(f"http://127.0.0.1:{port}/v1/images/{KEY}.png", args.seconds, args.connections)
            print(f"{f'filterscope api x{workers}':24s} {rate:10.0f} req/s  p99 {p99:>8s}  {rate / reference:.2f}")
            api.terminate()
            api.wait()
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
                process.wait()


if __name__ == "__main__":
    main()
