"""`filterscope render` in process: straight to PNG files, no Redis, with the model loaded once."""

from __future__ import annotations

import argparse

import pytest

from filterscope.cli import exposed_without_keys, main
from tests.helpers import decode_png
from worker.engine.images import read_spec


def test_render_writes_one_png_per_filter_without_redis(tmp_path, vgg16, capsys, monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens there: none is needed
    code = main(["render", "--layer", "block2_conv1", "--filters", "3,4", "--steps", "8", "--image-size", "24",
                 "--out", str(tmp_path)])
    assert code == 0
    for filter_index in (3, 4):
        png = (tmp_path / f"vgg16-hed_block2_conv1_{filter_index}.png").read_bytes()
        assert decode_png(png).shape == (24, 24, 3)
        assert read_spec(png)["filter"] == filter_index
    assert "activation" in capsys.readouterr().out


def test_render_rejects_a_bad_layer_with_a_clear_message(tmp_path, vgg16, capsys):
    assert main(["render", "--layer", "block9", "--filters", "0", "--out", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert "block5_conv3" in error and "Traceback" not in error
    assert not list(tmp_path.iterdir())


def test_render_choices_come_from_the_method_table(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["render", "--layer", "block1_conv1", "--filters", "0", "--method", "magic"])
    assert exit_.value.code == 2 and "fourier" in capsys.readouterr().err


def test_the_api_refuses_to_listen_beyond_loopback_without_keys(capsys, monkeypatch):
    from core.settings import get_settings

    monkeypatch.delenv("FILTERSCOPE_API_KEYS", raising=False)
    get_settings.cache_clear()
    for command in ("api", "up"):
        assert main([command, "--host", "0.0.0.0", "--port", "1"]) == 2
        assert "FILTERSCOPE_API_KEYS" in capsys.readouterr().err
    monkeypatch.setenv("FILTERSCOPE_API_KEYS", "k1")
    get_settings.cache_clear()
    try:
        assert not exposed_without_keys(argparse.Namespace(host="0.0.0.0", allow_anonymous=False))
    finally:
        monkeypatch.delenv("FILTERSCOPE_API_KEYS")
        get_settings.cache_clear()
    assert not exposed_without_keys(argparse.Namespace(host="0.0.0.0", allow_anonymous=True))
    assert not exposed_without_keys(argparse.Namespace(host="127.0.0.1", allow_anonymous=False))


def test_images_an_earlier_version_kept_in_the_state_redis_are_moved_out(redis, settings):
    from core.store import keys
    from filterscope.redis_server import drop_images

    for n in range(1500):  # more than one batch
        redis.hset(keys.image(f"{n:032x}"), "png", b"old")
    redis.set(keys.derived("grid:x"), b"old")
    redis.set(keys.visualization("kept"), b"{}")
    assert drop_images(settings.effective_redis_url) == 1501
    assert [key for key in redis.keys("*")] == [keys.visualization("kept").encode()]


def test_render_errors_read_like_the_apis_and_name_the_flag(tmp_path, vgg16, capsys):
    assert main(["render", "--layer", "block1_conv1", "--filters", "0", "--steps", "0", "--out", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("filterscope render: --steps: ") and "greater than or equal to 1" in error
    assert "validation error" not in error and "pydantic" not in error
    assert main(["render", "--layer", "block1_conv1", "--filters", "999", "--out", str(tmp_path)]) == 2
    assert "--filters: filter 999 is out of range" in capsys.readouterr().err
    assert main(["render", "--model", "nope", "--layer", "x", "--filters", "0", "--out", str(tmp_path)]) == 2
    assert "known models: vgg16-hed, vgg16" in capsys.readouterr().err


def test_render_names_both_weight_directories_when_weights_are_missing(tmp_path, settings, capsys, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    assert main(["render", "--model", "vgg16", "--layer", "block1_conv1", "--filters", "0", "--out", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert str(settings.effective_weights_dir) in error and str(tmp_path / "keras" / "models") in error, error
