"""The whole path as a user meets it: real HTTP through uvicorn, a worker process, a real Redis."""

from __future__ import annotations

import os
from pathlib import Path

from tests.e2e.conftest import wait_finished
from tests.helpers import decode_png, request
from worker.engine.images import read_spec


def test_a_visualisation_is_queued_rendered_and_served_over_http(http):
    answer = http.post("/v1/visualizations", json=request(filters=[0, 1, 2, 3], seed=101))
    assert answer.status_code == 202 and answer.headers["location"].endswith(answer.json()["id"])
    finished = wait_finished(http, answer.json()["id"])
    assert finished["status"] == "finished" and finished["progress"] == {"step": 12, "steps": 12}
    assert [image["filter"] for image in finished["images"]] == [0, 1, 2, 3]
    for image in finished["images"]:
        png = http.get(image["url"])
        assert png.status_code == 200 and png.headers["content-type"] == "image/png"
        assert decode_png(png.content).shape == (32, 32, 3) and image["activation"] > 0
        assert read_spec(png.content)["filter"] == image["filter"]
    again = http.post("/v1/visualizations", json=request(filters=[0, 1, 2, 3], seed=101))
    assert again.status_code == 200 and again.json()["images"] == finished["images"]


def test_the_running_api_process_has_not_loaded_tensorflow(http, api_process):
    # After serving real traffic, no TensorFlow library is mapped into the API's memory.
    wait_finished(http, http.post("/v1/visualizations", json=request(filters=[1], seed=401)).json()["id"])
    maps = Path(f"/proc/{api_process.pid}/maps").read_text()
    assert "libtensorflow" not in maps and "_pywrap_tensorflow" not in maps


def test_readyz_counts_the_live_worker(http):
    assert http.get("/healthz").json() == {"status": "ok"}
    ready = http.get("/readyz")
    assert ready.status_code == 200 and ready.json()["workers"] >= 1


def test_a_chunked_upload_is_refused_as_soon_as_it_passes_the_limit(api_process):
    """Over real HTTP: the 413 arrives while the client is still sending, long before it is done."""
    import select
    import socket

    host, port = api_process.base_url.removeprefix("http://").split(":")
    limit = int(os.environ.get("FILTERSCOPE_MAX_UPLOAD_MB", "200")) * 1024**2
    sent = 0
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(b"POST /v1/models HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                           b"Content-Type: multipart/form-data; boundary=B\r\n\r\n")
        preamble = (b'--B\r\nContent-Disposition: form-data; name="file"; filename="m.keras"\r\n'
                    b"Content-Type: application/octet-stream\r\n\r\n")
        connection.sendall(b"%x\r\n%s\r\n" % (len(preamble), preamble))
        chunk = b"\0" * 1024**2
        try:
            while sent < 3 * limit and not select.select([connection], [], [], 0)[0]:  # until it answers
                connection.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
        except OSError:
            pass  # the server answered and closed while we were still sending
        answer = b""
        while b"upload-too-large" not in answer and (part := connection.recv(65536)):  # headers and body may part
            answer += part
        answer = answer.decode(errors="replace")
    assert answer.startswith("HTTP/1.1 413") and "upload-too-large" in answer
    assert sent < 2 * limit, sent
