"""The Redis layout: the key names are a promise to what is already stored."""

from __future__ import annotations

import time

from core.content import etag
from core.methods import fill
from core.quality import ImageQuality
from core.spec import Method, Objective
from core.store import jobs, keys, records
from core.store.images import ImageStore, NewImage

QUALITY = ImageQuality(alive=True, robust_activation=1.0, high_frequency_share=0.1, clipped_share=0.0)


def test_keys_keep_the_names_existing_data_is_stored_under():
    # Renaming any of these orphans cached images, records or uploads of a running deployment.
    assert keys.image("ab") == "filterscope:image:ab"
    assert keys.visualization("cd") == "filterscope:visualization:cd"
    assert keys.lock("cd") == "filterscope:lock:cd"
    assert keys.worker_models("w") == "filterscope:worker-models:w"
    assert (keys.MODELS, keys.UPLOADS, keys.REVOKED_MODELS) == (
        "filterscope:models", "filterscope:uploads", "filterscope:revoked-models")
    assert (keys.INSPECTION_FAILURES, keys.JOBS_CREATED) == (
        "filterscope:inspection-failures", "filterscope:stats:jobs_created")


def test_an_image_is_stored_with_its_meta_and_a_ttl(redis):
    store = ImageStore(redis, redis, ttl=60)
    store.put("k1", NewImage(b"png-bytes", 1.5, [0.5, 1.5], b"strip", QUALITY), "m", "f" * 64)
    assert store.png("k1") == (b"png-bytes", etag(b"png-bytes"))
    assert store.pngs(["k1", "k2"]) == [store.png("k1"), None]
    assert store.meta(["k1", "k2"])["k1"].curve == [0.5, 1.5] and store.missing(["k1", "k2"]) == ["k2"]
    assert 0 < redis.ttl(keys.image("k1")) <= 60


def test_a_record_is_saved_once_and_keeps_its_first_creation_time(redis):
    params = fill(Method.fourier, Objective.channel, 1, "float32", 4, 16, 0)
    first = records.VisualizationRecord(id="v", model="m", fingerprint="f", layer="l", filters=[0], params=params,
                                        engine="2", images=[], created_at=time.time() - 100)
    records.save(redis, first, ttl=60)
    again = records.save(redis, first.model_copy(update={"created_at": time.time()}), ttl=600)
    assert again.created_at == first.created_at == records.load(redis, "v").created_at
    assert 60 < redis.ttl(keys.visualization("v")) <= 600  # every save renews its lifetime


def test_job_meta_is_typed(redis, settings):
    job = jobs.queue(redis, settings.queue_name).enqueue("worker.tasks.render", {}, job_id="j")
    jobs.write_progress(job, jobs.Progress(step=3, steps=8))
    jobs.write_error(job, jobs.JobError(slug="stale-model", title="Model changed", detail="submit it again"))
    fetched = jobs.fetch(redis, "j")
    assert jobs.read_progress(fetched) == jobs.Progress(step=3, steps=8)
    assert jobs.read_error(fetched).slug == "stale-model"
    assert jobs.fetch(redis, "absent") is None
