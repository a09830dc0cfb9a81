"""What dashboards and other services use, through real HTTP: the typed client (sync and async)
following live events, the per-unit URL an <img> tag loads, cancelling, and listing."""

from __future__ import annotations

import asyncio

import httpx

from filterscope.client import AsyncClient, Client
from tests.helpers import decode_png

SMALL = {"steps": 12, "image_size": 32}


def test_the_client_renders_follows_progress_and_saves_the_images(api_process, worker_process, tmp_path):
    reports = []
    with Client(api_process.base_url) as client:
        done = client.render("vgg16-hed", "block3_conv1", [5, 6], directory=tmp_path, on_progress=reports.append,
                             seed=501, **SMALL)
        assert done.status == "finished" and [image.filter for image in done.images] == [5, 6]
        assert reports and reports[-1].steps == 12
        saved = sorted(tmp_path.glob("*.png"))
        assert [path.name for path in saved] == ["block3_conv1-filter0005-0.png", "block3_conv1-filter0006-0.png"]
        assert all(decode_png(path.read_bytes()).shape == (32, 32, 3) for path in saved)
        assert done.id in [v.id for v in client.list(layer="block3_conv1", status="finished")]


def test_the_async_client_does_the_same(api_process, worker_process, tmp_path):
    async def run():
        async with AsyncClient(api_process.base_url) as client:
            done = await client.render("vgg16-hed", "block3_conv1", [7], directory=tmp_path, seed=502, **SMALL)
            return done, [v.id async for v in client.list(status="finished")]

    done, finished = asyncio.run(run())
    assert done.status == "finished" and done.id in finished
    assert decode_png((tmp_path / "block3_conv1-filter0007-0.png").read_bytes()).shape == (32, 32, 3)


def test_an_img_load_of_a_unit_url_is_held_until_its_picture_exists(api_process, worker_process):
    url = f"{api_process.base_url}/v1/models/vgg16-hed/layers/block3_conv1/filters/9.png?steps=12&image_size=32&seed=503"
    browser = {"Sec-Fetch-Dest": "image", "Origin": "null", "Accept": "image/avif,image/webp,image/*,*/*;q=0.8"}
    picture = httpx.get(url, headers=browser, timeout=120)
    assert picture.status_code == 200 and decode_png(picture.content).shape == (32, 32, 3)
    assert picture.headers["access-control-allow-origin"] == "*"
    head = httpx.head(url)
    assert head.status_code == 200 and head.headers["etag"] == picture.headers["etag"] and head.content == b""


def test_a_running_visualization_is_cancelled_over_http(api_process, worker_process):
    with Client(api_process.base_url) as client:
        running = client.submit("vgg16-hed", "block3_conv1", [10], seed=504, steps=4000, image_size=32)
        progress = []

        def cancel_when_started(report) -> None:
            progress.append(report)
            if len(progress) == 2:
                client.cancel(running.id)

        ended = client.wait(running, on_progress=cancel_when_started, timeout=120)
        assert ended.status == "cancelled" and ended.progress.step < 4000


def test_the_remote_command_renders_lists_and_reports_problems_like_the_api(api_process, worker_process, tmp_path,
                                                                             capsys):
    from filterscope.cli import main

    url = ["remote", "--url", api_process.base_url]
    assert main(url + ["render", "--layer", "block2_conv1", "--filters", "3", "--steps", "12", "--image-size", "32",
                       "--seed", "505", "--out", str(tmp_path)]) == 0
    assert decode_png((tmp_path / "block2_conv1-filter0003-0.png").read_bytes()).shape == (32, 32, 3)
    assert main(url + ["list", "--layer", "block2_conv1"]) == 0
    assert "finished  vgg16-hed block2_conv1 filters [3]" in capsys.readouterr().out
    assert main(url + ["render", "--layer", "block2_conv1", "--filters", "3", "--steps", "0", "--out",
                       str(tmp_path)]) == 2
    assert "filterscope remote: params.steps: " in capsys.readouterr().err
