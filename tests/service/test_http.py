"""Browser-friendly HTTP: HEAD wherever GET is, Allow on OPTIONS and 405, CORS from a setting,
documentation pages that need no internet, and problem answers described in the OpenAPI document."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from core.settings import Settings
from tests.helpers import tiny_request


def test_head_answers_as_get_without_a_body(api, tiny, run_jobs):
    created = api.post("/v1/visualizations", json=tiny_request(filters=[1], seed=41)).json()
    run_jobs()
    url = api.get(f"/v1/visualizations/{created['id']}").json()["images"][0]["url"]
    for path in (url, "/v1/models", f"/v1/visualizations/{created['id']}", "/openapi.json"):
        got, head = api.get(path), api.head(path)
        assert head.status_code == 200 and head.content == b"", path
        assert head.headers["content-type"] == got.headers["content-type"], path
        assert head.headers["content-length"] == got.headers["content-length"], path
    assert api.head(url).headers["etag"] == api.get(url).headers["etag"]


def test_options_and_405_name_every_method_of_the_path(api):
    options = api.options("/v1/visualizations/abc")
    assert options.status_code == 204
    assert set(options.headers["allow"].split(", ")) >= {"GET", "HEAD", "OPTIONS"}
    refused = api.post("/v1/images/" + "0" * 32 + ".png")
    assert refused.status_code == 405 and refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["allow"] == "GET, HEAD, OPTIONS"
    assert set(api.options("/v1/visualizations").headers["allow"].split(", ")) >= {"GET", "HEAD", "POST", "OPTIONS"}
    assert api.options("/nowhere").status_code == 404


def test_cors_lets_any_origin_read_by_default(api, tiny):
    answer = api.get("/v1/models", headers={"Origin": "null"})  # a page opened from disk
    assert answer.headers["access-control-allow-origin"] == "*"
    preflight = api.options("/v1/visualizations", headers={
        "Origin": "https://dashboard.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, x-api-key"})
    assert preflight.status_code == 200 and "POST" in preflight.headers["access-control-allow-methods"]
    assert "x-api-key" in preflight.headers["access-control-allow-headers"].lower()
    queued = api.post("/v1/visualizations", json=tiny_request(seed=42), headers={"Origin": "https://dashboard.example"})
    assert "location" in queued.headers["access-control-expose-headers"].lower()


def test_cors_origins_come_from_the_setting(settings, redis):
    from service.app import create_app

    only = Settings(**settings.model_dump() | {"cors_origins": "https://dash.example"})
    with TestClient(create_app(only)) as client:
        assert client.get("/healthz", headers={"Origin": "https://dash.example"}).headers[
            "access-control-allow-origin"] == "https://dash.example"
        assert "access-control-allow-origin" not in client.get("/healthz", headers={"Origin": "https://evil.example"}).headers


def test_the_documentation_pages_load_their_assets_from_the_server(api):
    for page in ("/docs", "/redoc"):
        html = api.get(page).text
        sources = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert sources and not any(s.startswith(("http:", "https:", "//")) for s in sources), sources
        for source in sources:
            asset = api.get(source)
            assert asset.status_code == 200 and len(asset.content) > 1000, source


def test_problem_answers_have_a_schema_in_the_openapi_document(api):
    document = api.get("/openapi.json").json()
    problem = document["components"]["schemas"]["ProblemDetails"]
    assert {"type", "title", "status", "detail"} <= set(problem["required"])
    contents = [response["content"]["application/problem+json"] for path in document["paths"].values()
                for operation in path.values() for response in operation["responses"].values()
                if "application/problem+json" in response.get("content", {})]
    assert contents and all(c["schema"] == {"$ref": "#/components/schemas/ProblemDetails"} for c in contents)
