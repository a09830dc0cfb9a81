"""Model files every worker can reach, stored once and addressed by the SHA-256 of their bytes.

The API writes an uploaded `.keras` file (or a standard model's weights) here; a worker fetches
it into its own disk cache the first time a job needs it. No filesystem is shared.

- Default: the state Redis, which never evicts. A file is split into chunks (a Redis string holds
  at most 512 MB, and one large value would stall the server while it is copied); the chunk count
  is written last, so a reader never sees half a file.
- `FILTERSCOPE_MODEL_STORE_URL`: any fsspec URL (`file:///srv/models`, `s3://bucket/models`,
  `gs://...`; the protocol's own package, such as s3fs, must be installed).
"""

from __future__ import annotations

import hashlib
from typing import Protocol

from redis import Redis

from core.store import keys

CHUNK_BYTES = 4 * 1024**2


class MissingFile(LookupError):
    """No file with this digest is stored (never written, or deleted)."""


class CorruptFile(ValueError):
    """What was read back does not hash to the digest it is stored under."""


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def verified(data: bytes, digest: str) -> bytes:
    if digest_of(data) != digest:
        raise CorruptFile(f"the stored file {digest[:16]}… does not match its SHA-256")
    return data


class ModelFiles(Protocol):
    def put(self, data: bytes) -> str: ...
    def get(self, digest: str) -> bytes: ...
    def exists(self, digest: str) -> bool: ...
    def delete(self, digest: str) -> None: ...


class RedisFiles:
    def __init__(self, redis: Redis):
        self.redis = redis

    def put(self, data: bytes) -> str:
        digest = digest_of(data)
        if self.exists(digest):
            return digest  # content-addressed: the same bytes are stored once
        count = max(1, -(-len(data) // CHUNK_BYTES))
        for index in range(count):
            self.redis.set(keys.file_chunk(digest, index), data[index * CHUNK_BYTES:(index + 1) * CHUNK_BYTES])
        self.redis.hset(keys.file(digest), mapping={"size": len(data), "chunks": count})
        return digest

    def get(self, digest: str) -> bytes:
        count = self.redis.hget(keys.file(digest), "chunks")
        if count is None:
            raise MissingFile(digest)
        parts = [self.redis.get(keys.file_chunk(digest, index)) for index in range(int(count))]
        if any(part is None for part in parts):
            raise MissingFile(digest)
        return verified(b"".join(parts), digest)

    def exists(self, digest: str) -> bool:
        return bool(self.redis.hexists(keys.file(digest), "chunks"))

    def delete(self, digest: str) -> None:
        count = self.redis.hget(keys.file(digest), "chunks")
        self.redis.delete(keys.file(digest))  # first: from here on no reader starts on it
        if count is not None:
            self.redis.delete(*[keys.file_chunk(digest, index) for index in range(int(count))])


class FsspecFiles:
    """Files under an fsspec URL, one object per digest, written under a temporary name first."""

    def __init__(self, url: str):
        import fsspec

        self.fs, self.root = fsspec.core.url_to_fs(url)
        self.fs.makedirs(self.root, exist_ok=True)

    def path(self, digest: str) -> str:
        return f"{self.root.rstrip('/')}/{digest}.keras"

    def put(self, data: bytes) -> str:
        digest = digest_of(data)
        if not self.exists(digest):
            partial = f"{self.path(digest)}.partial-{digest_of(str(id(data)).encode())[:8]}"
            self.fs.pipe_file(partial, data)
            self.fs.mv(partial, self.path(digest))
        return digest

    def get(self, digest: str) -> bytes:
        try:
            return verified(self.fs.cat_file(self.path(digest)), digest)
        except FileNotFoundError:
            raise MissingFile(digest) from None

    def exists(self, digest: str) -> bool:
        return bool(self.fs.exists(self.path(digest)))

    def delete(self, digest: str) -> None:
        try:
            self.fs.rm_file(self.path(digest))
        except FileNotFoundError:
            pass


def model_files(url: str, redis: Redis) -> ModelFiles:
    """The store a deployment uses: `url` when set, else the state Redis."""
    return FsspecFiles(url) if url else RedisFiles(redis)
