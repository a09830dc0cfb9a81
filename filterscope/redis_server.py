"""Private redis-servers for `filterscope up` when no REDIS_URL is given: one for state (queue,
records, catalog, uploads) that never evicts, with append-only persistence, and one for the image
cache that evicts the least recently used images when it reaches its memory cap.

Each listens on a Unix socket in the data directory (no TCP port to collide with) and keeps its
data there.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError

from core.store import keys

START_TIMEOUT = 10.0


class RedisServerMissing(RuntimeError):
    pass


STATE = ("redis", ["--appendonly", "yes", "--save", "60 1", "--maxmemory-policy", "noeviction"])
CACHE = ("redis-cache", ["--appendonly", "no", "--save", "300 1", "--maxmemory-policy", "allkeys-lru"])


def start(data_dir: Path, maxmemory: str, role: tuple[str, list[str]] = STATE) -> tuple[subprocess.Popen, str]:
    """Start one server of `role` (STATE or CACHE) in `data_dir`; returns it and its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RedisServerMissing(
            "No redis-server binary was found on PATH. Install one (Debian/Ubuntu: apt-get install "
            "redis-server; macOS: brew install redis) or point REDIS_URL at a running Redis."
        )
    name, options = role
    redis_dir = (data_dir / name).resolve()
    redis_dir.mkdir(parents=True, exist_ok=True)
    socket = redis_dir / "redis.sock"
    process = subprocess.Popen(
        [binary, "--port", "0", "--unixsocket", str(socket), "--unixsocketperm", "700", "--dir", str(redis_dir),
         "--maxmemory", maxmemory, *options, "--logfile", str(redis_dir / "redis.log")],
        stdout=subprocess.DEVNULL,
    )
    url = f"unix://{socket}"
    wait_until_up(url, process)
    return process, url


def drop_images(url: str) -> int:
    """Remove cached images from a state server: an earlier version kept them there, and in a server
    that never evicts they would only take the room that state needs. They are rendered again on demand."""
    redis = Redis.from_url(url)
    dropped = 0
    for pattern in (keys.image("*"), keys.derived("*")):
        batch = []
        for name in redis.scan_iter(match=pattern, count=1000):
            batch.append(name)
            if len(batch) == 1000:
                dropped += redis.unlink(*batch)
                batch = []
        if batch:
            dropped += redis.unlink(*batch)
    return dropped


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
