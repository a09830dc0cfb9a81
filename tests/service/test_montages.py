"""Montages stay bounded whatever the number of images, and are built once."""

from __future__ import annotations

from PIL import Image

from core.store import keys
from service.images.grid import MAX_SHEET_SIDE, layout
from tests.helpers import decode_png, tiny_request


def test_a_sheet_of_many_large_images_stays_within_its_bound():
    tile = Image.new("RGB", (512, 512), "red")
    sheet = layout([(f"#{n}", tile) for n in range(600)])
    assert max(sheet.size) <= MAX_SHEET_SIDE
    small = layout([("#0", Image.new("RGB", (32, 32)))] * 4)
    assert small.size == (2 * 34 + 2, 2 * 48 + 2)  # few small images keep their own size


def test_a_grid_is_built_once_and_served_from_the_cache_after(api, tiny, run_jobs, redis):
    created = api.post("/v1/visualizations", json=tiny_request(filters=[0, 1, 2, 3, 4], seed=150)).json()
    run_jobs()
    done = api.get(f"/v1/visualizations/{created['id']}").json()
    first = api.get(done["grid_url"])
    name = keys.derived("grid:" + first.headers["etag"].strip('"'))
    assert redis.get(name) == first.content and decode_png(first.content).shape[0] >= 3 * 16
    assert 0 < redis.ttl(name)  # kept as long as images are
    redis.set(name, b"kept")  # what is served next is the kept copy, not a new montage
    assert api.get(done["grid_url"]).content == b"kept"
