"""The API process must stay free of TensorFlow."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def test_importing_the_app_and_its_command_does_not_import_tensorflow():
    code = ("import sys, service.app, filterscope.cli; app = service.app.create_app(); app.openapi(); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'worker')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_openapi_docs_describe_every_route_with_an_example(api):
    spec = api.get("/openapi.json").json()
    routes = {(path, method) for path, methods in spec["paths"].items() for method in methods}
    assert routes == {("/v1/visualizations", "post"), ("/v1/visualizations", "get"),
                      ("/v1/visualizations/{visualization_id}", "get"), ("/v1/visualizations/{visualization_id}", "delete"),
                      ("/v1/models/{model}/layers/{layer}/filters/{unit}.png", "get"),
                      ("/v1/visualizations/{visualization_id}/events", "get"),
                      ("/v1/visualizations/{visualization_id}/grid.png", "get"),
                      ("/v1/visualizations/{visualization_id}/progress.webp", "get"), ("/v1/images/{key}.png", "get"),
                      ("/v1/models", "get"), ("/v1/models", "post"), ("/v1/models/{model_id}", "get"),
                      ("/v1/models/{model_id}", "delete"), ("/v1/models/{model_id}/weights", "put"),
                      ("/v1/sweeps", "post"), ("/v1/sweeps/{sweep_id}", "get"), ("/v1/sweeps/{sweep_id}", "delete"),
                      ("/v1/sweeps/{sweep_id}/layers/{layer}/sprite.png", "get"),
                      ("/healthz", "get"), ("/readyz", "get"), ("/metrics", "get")}
    assert spec["components"]["schemas"]["VisualizationRequest"]["examples"]
    assert spec["components"]["schemas"]["SweepRequest"]["examples"]
    assert "maco" in spec["components"]["schemas"]["Params"]["properties"]["method"]["description"]
    assert api.get("/docs").status_code == 200
