"""Model files are stored once for every worker, read back whole and verified, in Redis or under
any fsspec URL."""

from __future__ import annotations

import pytest

from core.store import files as stored_files
from core.store import keys
from core.store.files import CorruptFile, FsspecFiles, MissingFile, RedisFiles


@pytest.fixture(params=["redis", "fsspec"])
def store(request, redis, tmp_path, monkeypatch):
    monkeypatch.setattr(stored_files, "CHUNK_BYTES", 1000)  # several chunks for a small file
    return RedisFiles(redis) if request.param == "redis" else FsspecFiles(f"file://{tmp_path}/models")


def test_a_file_is_stored_once_under_its_digest_and_read_back_whole(store):
    data = bytes(range(256)) * 17  # 4352 bytes: five chunks in Redis
    digest = store.put(data)
    assert digest == stored_files.digest_of(data) and store.put(data) == digest
    assert store.exists(digest) and store.get(digest) == data
    store.delete(digest)
    assert not store.exists(digest)
    with pytest.raises(MissingFile):
        store.get(digest)


def test_a_file_changed_in_the_store_is_refused_not_loaded(redis, monkeypatch):
    monkeypatch.setattr(stored_files, "CHUNK_BYTES", 1000)
    store = RedisFiles(redis)
    digest = store.put(b"x" * 2500)
    redis.set(keys.file_chunk(digest, 1), b"y" * 1000)
    with pytest.raises(CorruptFile):
        store.get(digest)
    redis.delete(keys.file_chunk(digest, 2))
    with pytest.raises(MissingFile):
        store.get(digest)
