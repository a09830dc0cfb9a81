"""Webhooks: called when a visualisation ends, signed per Standard Webhooks, retried, allow-listed."""

from __future__ import annotations

import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient
from standardwebhooks.webhooks import Webhook

from core.settings import Settings
from tests.helpers import tiny_request

SECRET = "whsec_" + base64.b64encode(b"filterscope-test-secret-32bytes!").decode()


class Receiver:
    """A real HTTP endpoint that answers with the given statuses in turn and keeps what it got."""

    def __init__(self, statuses: list[int]):
        received, answers = [], list(statuses)

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                received.append((dict(self.headers), body))
                self.send_response(answers.pop(0) if len(answers) > 1 else answers[0])
                self.end_headers()

            def log_message(self, *args):
                pass

        self.received = received
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/filterscope"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int, timeout: float) -> list:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.received


@pytest.fixture
def hooked(settings, redis):
    from service.app import create_app

    with_hooks = Settings(**settings.model_dump() | {"webhook_hosts": "127.0.0.1", "webhook_secret": SECRET})
    with TestClient(create_app(with_hooks)) as client:
        yield client


def test_a_finished_visualization_calls_back_signed_and_retries_a_failed_delivery(hooked, tiny, run_jobs):
    receiver = Receiver([500, 204])
    created = hooked.post("/v1/visualizations", json=tiny_request(filters=[1], seed=80) | {"callback_url": receiver.url})
    assert created.status_code == 202
    run_jobs()
    calls = receiver.wait_for(2, 20)
    assert len(calls) == 2, calls
    (first_headers, first_body), (headers, body) = calls
    assert first_headers["webhook-id"] == headers["webhook-id"]  # the same message, delivered again
    payload = Webhook(SECRET).verify(body, {name.lower(): value for name, value in headers.items()})
    assert payload["type"] == "visualization.finished"
    assert payload["data"]["id"] == created.json()["id"] and payload["data"]["status"] == "finished"
    assert payload["data"]["images"][0]["url"].startswith("/v1/images/")
    time.sleep(1.5)
    assert len(receiver.received) == 2  # delivered: not sent again


def test_a_cached_visualization_calls_back_at_once_and_a_tampered_body_fails_verification(hooked, tiny, run_jobs):
    hooked.post("/v1/visualizations", json=tiny_request(filters=[2], seed=81))
    run_jobs()
    receiver = Receiver([200])
    cached = hooked.post("/v1/visualizations", json=tiny_request(filters=[2], seed=81) | {"callback_url": receiver.url})
    assert cached.status_code == 200
    (headers, body), = receiver.wait_for(1, 10)
    lowered = {name.lower(): value for name, value in headers.items()}
    assert json.loads(body)["data"]["status"] == "finished"
    with pytest.raises(Exception):
        Webhook(SECRET).verify(body.replace(b"finished", b"failed"), lowered)


def test_callbacks_are_refused_outside_the_allow_list_or_when_off(hooked, api, tiny):
    for url, reason in (("http://10.0.0.8/hook", "allow-list"), ("ftp://127.0.0.1/x", "http or https"),
                        ("hook", "http or https")):
        refused = hooked.post("/v1/visualizations", json=tiny_request(seed=82) | {"callback_url": url}).json()
        assert refused["status"] == 422 and refused["errors"][0]["field"] == "callback_url", refused
        assert reason in refused["errors"][0]["reason"]
    off = api.post("/v1/visualizations", json=tiny_request(seed=83) | {"callback_url": "http://127.0.0.1:9/x"}).json()
    assert off["status"] == 422 and "webhooks are off" in off["errors"][0]["reason"]
