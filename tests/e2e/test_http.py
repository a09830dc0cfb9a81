"""Browser-facing HTTP through uvicorn: documentation that needs no internet, Allow on OPTIONS and
405, content URLs that heal after eviction, and webhooks from an API process that has them on."""

from __future__ import annotations

import re

import httpx
from standardwebhooks.webhooks import Webhook

from core.store import keys
from tests.e2e.conftest import start_api, wait_finished
from tests.helpers import request, stop
from tests.service.test_webhooks import SECRET, Receiver
from worker.engine.images import read_spec


def test_docs_load_their_assets_from_the_server_and_methods_are_named(http):
    for page in ("/docs", "/redoc"):
        sources = re.findall(r'(?:src|href)="([^"]+)"', http.get(page).text)
        assert sources and all(http.get(source).status_code == 200 for source in sources)
        assert not any(source.startswith(("http:", "https:", "//")) for source in sources)
    assert http.options("/v1/images/" + "0" * 32 + ".png").headers["allow"] == "GET, HEAD, OPTIONS"
    refused = http.put("/v1/visualizations")
    assert refused.status_code == 405 and refused.headers["allow"] == "GET, HEAD, OPTIONS, POST"


def test_an_evicted_content_url_heals_over_http(http, e2e_redis):
    done = wait_finished(http, http.post("/v1/visualizations", json=request(filters=[11], seed=701)).json()["id"])
    url = done["images"][0]["url"]
    key = url.split("/")[-1].removesuffix(".png")
    e2e_redis.delete(keys.image(key))  # evicted before anyone fetched it: no API process holds it in memory
    healed = http.get(url + "?wait=120", timeout=150)
    assert healed.status_code == 200 and e2e_redis.exists(keys.image(key))
    spec = read_spec(healed.content)  # rendered again, deterministically: the same image
    assert spec["filter"] == 11 and abs(spec["activation"] - done["images"][0]["activation"]) < 1e-3


def test_webhooks_are_called_signed_by_an_api_process_that_has_them_on(service_env, worker_process, data_dir):
    receiver = Receiver([200])
    env = service_env | {"FILTERSCOPE_WEBHOOK_HOSTS": "127.0.0.1", "FILTERSCOPE_WEBHOOK_SECRET": SECRET}
    api = start_api(env, data_dir / "api-webhooks.log")
    try:
        created = httpx.post(api.base_url + "/v1/visualizations",
                             json=request(filters=[12], seed=702) | {"callback_url": receiver.url})
        assert created.status_code == 202
        (headers, body), = receiver.wait_for(1, 120)
        payload = Webhook(SECRET).verify(body, {name.lower(): value for name, value in headers.items()})
        assert payload["type"] == "visualization.finished" and payload["data"]["id"] == created.json()["id"]
    finally:
        stop(api)
