"""One image is rendered by one worker at a time, even across overlapping requests."""

from __future__ import annotations

import threading
import time

from core.quality import ImageQuality
from core.store import keys
from core.store.claims import Claims
from core.store.images import ImageStore, NewImage
from tests.helpers import tiny_request

QUALITY = ImageQuality(alive=True, robust_activation=1.0, high_frequency_share=0.1, clipped_share=0.0)


def test_a_unit_another_worker_is_rendering_is_waited_for_not_rendered_again(api, tiny, run_jobs, redis, settings):
    first = api.post("/v1/visualizations", json=tiny_request(filters=[0, 1], seed=170)).json()
    run_jobs()
    done = api.get(f"/v1/visualizations/{first['id']}").json()
    shared_key = done["images"][1]["url"].split("/")[-1].removesuffix(".png")
    redis.delete(keys.image(shared_key))  # filter 1 must be rendered again ...

    other = Claims(redis, "another-worker")
    assert other.take([shared_key]) == {shared_key}  # ... and another worker has just started on it

    def other_worker_finishes() -> None:
        time.sleep(1.0)
        ImageStore(redis, redis, settings.image_ttl).put(shared_key, NewImage(b"theirs", 1.0, [1.0], b"", QUALITY), "tiny", "f")
        other.release()

    overlapping = api.post("/v1/visualizations", json=tiny_request(filters=[1, 2], seed=170)).json()
    finisher = threading.Thread(target=other_worker_finishes)
    finisher.start()
    run_jobs()
    finisher.join()
    assert redis.hget(keys.image(shared_key), "png") == b"theirs"  # not rendered a second time here
    assert api.get(f"/v1/visualizations/{overlapping['id']}").json()["status"] == "finished"
    assert not redis.keys(keys.claim("*"))  # every claim given up


def test_a_claim_whose_worker_died_is_taken_over(redis):
    dead = Claims(redis, "dead-worker", ttl=1)
    assert dead.take(["unit"]) == {"unit"}
    alive = Claims(redis, "alive-worker")
    assert alive.take(["unit"]) == set()
    time.sleep(1.5)  # the dead worker never renews
    assert alive.take(["unit"]) == {"unit"}
    dead.release()  # releasing what is no longer yours leaves the new owner's claim alone
    assert redis.get(keys.claim("unit")) == b"alive-worker"


def test_claims_that_expired_during_an_outage_are_taken_back_unless_taken_by_another(redis):
    mine = Claims(redis, "this-worker", ttl=1)
    assert mine.take(["kept", "lost"]) == {"kept", "lost"}
    redis.delete(keys.claim("kept"), keys.claim("lost"))  # expired while Redis was away
    Claims(redis, "other-worker").take(["lost"])
    mine.renew()
    assert redis.get(keys.claim("kept")) == b"this-worker" and 0 < redis.ttl(keys.claim("kept")) <= 1
    assert redis.get(keys.claim("lost")) == b"other-worker"
