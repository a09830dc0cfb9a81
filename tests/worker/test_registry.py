"""Workers keep recently used models loaded within a memory budget and say which they hold."""

from __future__ import annotations

import json

import keras
import pytest

from core.errors import ModelUnavailable
from core.preprocessing import preprocessing_spec
from core.store import keys
from core.store.uploads import UploadRecord
from tests.helpers import tiny_request
from core.store.files import RedisFiles
from worker.models.files import LocalFiles
from worker.models.registry import ModelRegistry, model_bytes


def tiny_upload(registry: ModelRegistry, tmp_path) -> UploadRecord:
    path = tmp_path / "tiny-lru.keras"
    inputs = keras.Input((None, None, 3))
    keras.Model(inputs, keras.layers.Conv2D(2, 3, name="conv")(inputs)).save(path)
    return UploadRecord(id="tiny-lru", name="tiny", preprocessing=preprocessing_spec("none", (0, 1)),
                        file_sha256=registry.files.store.put(path.read_bytes()))


def test_the_least_recently_used_model_goes_first_when_the_budget_is_full(data_dir, vgg16, redis, tmp_path):
    budget = model_bytes(vgg16.model) + 1024  # room for vgg16-hed and the tiny model, not for two vgg16s
    files = LocalFiles(RedisFiles(redis), tmp_path / "files")
    registry = ModelRegistry(data_dir / "models", files, memory_budget=budget)
    upload = tiny_upload(registry, tmp_path)
    registry.get("vgg16-hed")
    registry.get("tiny-lru", upload)
    assert registry.held() == ["vgg16-hed", "tiny-lru"]
    registry.memory_budget = model_bytes(vgg16.model) - 1  # now only one fits
    registry.get("tiny-lru", upload)  # tiny is the most recent: vgg16-hed, the least recent, goes
    assert registry.held() == ["tiny-lru"]
    registry.get("vgg16-hed")  # the one in use always stays, whatever its size
    assert registry.held() == ["vgg16-hed"]


def test_a_worker_publishes_the_models_it_holds(api, redis, tiny, run_jobs):
    api.post("/v1/visualizations", json=tiny_request(seed=801))
    run_jobs()
    held = [json.loads(redis.get(key)) for key in redis.scan_iter(keys.worker_models("*"))]
    assert any("tiny" in models for models in held)


def test_a_registry_without_a_model_file_store_serves_built_ins_and_says_why_not_uploads(data_dir, vgg16, tmp_path):
    # As the benchmarks build theirs (bench/runners.py): no Redis, no store.
    registry = ModelRegistry(data_dir / "models")
    assert registry.get("vgg16-hed").info.fingerprint == vgg16.info.fingerprint
    upload = UploadRecord(id="elsewhere", name="x", preprocessing=preprocessing_spec("none", (0, 1)),
                          file_sha256="0" * 64)
    with pytest.raises(ModelUnavailable, match="no model file store"):
        registry.get("elsewhere", upload)
