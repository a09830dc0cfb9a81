"""A private redis-server for `filterscope up` when no REDIS_URL is given.

It listens on a Unix socket in the data directory (no TCP port to collide with), keeps its data
there with append-only persistence, and evicts only keys with a TTL (cached images) when full.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError

START_TIMEOUT = 10.0


class RedisServerMissing(RuntimeError):
    pass


def start(data_dir: Path, maxmemory: str) -> tuple[subprocess.Popen, str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RedisServerMissing(
            "No redis-server binary was found on PATH. Install one (Debian/Ubuntu: apt-get install "
            "redis-server; macOS: brew install redis) or point REDIS_URL at a running Redis."
        )
    redis_dir = (data_dir / "redis").resolve()
    redis_dir.mkdir(parents=True, exist_ok=True)
    socket = redis_dir / "redis.sock"
    process = subprocess.Popen(
        [binary, "--port", "0", "--unixsocket", str(socket), "--unixsocketperm", "700", "--dir", str(redis_dir),
         "--appendonly", "yes", "--save", "60 1", "--maxmemory", maxmemory, "--maxmemory-policy", "volatile-lru",
         "--logfile", str(redis_dir / "redis.log")],
        stdout=subprocess.DEVNULL,
    )
    url = f"unix://{socket}"
    wait_until_up(url, process)
    return process, url


def wait_until_up(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"redis-server exited with code {process.returncode}; see its log in the data directory")
        try:
            Redis.from_url(url).ping()
            return
        except (RedisError, OSError):
            time.sleep(0.05)
    raise RuntimeError(f"redis-server did not answer within {START_TIMEOUT:.0f} s")
