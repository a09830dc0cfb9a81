"""Montages stay bounded whatever the number of images, and are built once."""

from __future__ import annotations

from PIL import Image

from core.store import keys
import threading

from service.images.grid import MAX_SHEET_SIDE, Layout, encode
from service.visualizations import montages
from tests.helpers import decode_png, tiny_request


def test_a_sheet_of_many_large_images_stays_within_its_bound():
    many = Layout(2048, 512)
    sheet = many.canvas()
    assert max(sheet.size) <= MAX_SHEET_SIDE
    many.paste(sheet, 2047, "#2047", Image.new("RGB", (512, 512), "red"))  # shrunk into its cell
    red = [(x, y) for x in range(sheet.width) for y in range(sheet.height) if sheet.getpixel((x, y)) == (255, 0, 0)]
    assert len(red) == many.tile**2 and many.tile < 512
    assert Layout(4, 32).canvas().size == (2 * 34 + 2, 2 * 48 + 2)  # few small images keep their own size


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


def test_concurrent_requests_for_one_grid_build_it_once(api, tiny, run_jobs, monkeypatch):
    created = api.post("/v1/visualizations", json=tiny_request(filters=[0, 1, 2], seed=151)).json()
    run_jobs()
    grid_url = api.get(f"/v1/visualizations/{created['id']}").json()["grid_url"]
    builds = []

    def slow_grid(images, record):
        builds.append(record.id)
        threading.Event().wait(0.5)  # long enough for every request to arrive while it builds
        return encode(Image.new("RGB", (8, 8)))

    monkeypatch.setattr(montages, "grid", slow_grid)
    answers = []
    requests = [threading.Thread(target=lambda: answers.append(api.get(grid_url))) for _ in range(4)]
    for request in requests:
        request.start()
    for request in requests:
        request.join()
    assert [a.status_code for a in answers] == [200] * 4 and len({a.content for a in answers}) == 1
    assert builds == [created["id"]]


def test_a_dead_unit_is_crossed_out_in_red_except_where_silence_is_the_aim():
    from core.spec import Objective
    from service.images.grid import DEAD

    layout = Layout(2, 32)
    sheet = layout.canvas()
    layout.paste(sheet, 0, "#0", Image.new("RGB", (32, 32), "white"))
    layout.paste(sheet, 1, "#1", Image.new("RGB", (32, 32), "white"), dead=True)
    half = sheet.width // 2
    left, right = sheet.crop((0, 0, half, sheet.height)), sheet.crop((half, 0, sheet.width, sheet.height))
    assert DEAD not in {colour for _, colour in left.getcolors(1 << 16)}
    assert DEAD in {colour for _, colour in right.getcolors(1 << 16)}
    assert montages.marks_dead(Objective.channel) and not montages.marks_dead(Objective.negative)
