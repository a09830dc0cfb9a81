"""Content keys and pixels for a fixed set of requests are exactly those recorded in
tests/data/golden.json: images cached by earlier releases of the same engine are still found and
served, and the pixels have not drifted. Activations agree to a relative 1e-5: CPUs differ in the
last bits of a float sum.

The record is redone only when the engine's pixels change on purpose, together with a new
ENGINE_VERSION: run `FILTERSCOPE_RECORD_GOLDEN=1 pytest tests/test_golden.py`.
"""

from __future__ import annotations

import hashlib
import io
import json
import os

import numpy as np
import pytest
from PIL import Image

from service.visualizations.schemas import VisualizationRequest
from service.visualizations.validation import build_record
from tests.conftest import ROOT, TINY_MODEL_FILE

GOLDEN = ROOT / "tests" / "data" / "golden.json"
RECORDING = os.environ.get("FILTERSCOPE_RECORD_GOLDEN") == "1"


def pixels_sha256(png: bytes) -> str:
    return hashlib.sha256(np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).tobytes()).hexdigest()


def without_activations(render: dict) -> dict:
    return render | {"images": [{k: v for k, v in image.items() if k != "activation"} for image in render["images"]]}


def render_case(api, run_jobs, body: dict) -> dict:
    created = api.post("/v1/visualizations", json=body).json()
    run_jobs()
    done = api.get(f"/v1/visualizations/{created['id']}").json()
    assert done["status"] == "finished", done
    images = [{"filter": i["filter"], "index": i["index"], "key": i["url"].split("/")[-1].removesuffix(".png"),
               "pixels_sha256": pixels_sha256(api.get(i["url"]).content), "activation": i["activation"]}
              for i in done["images"]]
    return {"request": body, "id": done["id"], "params": done["params"], "images": images}


def test_keys_and_png_bytes_are_those_recorded(api, run_jobs, vgg16):
    golden = json.loads(GOLDEN.read_text())
    model_id = golden["renders"][0]["request"]["model"]
    uploaded = api.post("/v1/models", files={"file": ("m.keras", TINY_MODEL_FILE.read_bytes())},
                        data={"id": model_id, "name": "golden", "preprocessing": "none", "input_range": "0,1"})
    assert uploaded.status_code == 202, uploaded.text
    run_jobs()
    fingerprint = api.get(f"/v1/models/{model_id}").json()["fingerprint"]

    renders = [render_case(api, run_jobs, case["request"]) for case in golden["renders"]]
    pinned = vgg16.info.model_copy(update={"fingerprint": golden["vgg16_hed_fingerprint"]})
    keys = []
    for case in golden["vgg16_hed_keys"]:
        record = build_record(VisualizationRequest.model_validate(case["request"]), pinned)
        keys.append({"request": case["request"], "id": record.id, "params": record.params.model_dump(mode="json"),
                     "keys": [[t.filter, t.index, t.key] for t in record.images]})
    if RECORDING:
        recorded = {"tiny_model_fingerprint": fingerprint, "renders": renders, "vgg16_hed_keys": keys}
        GOLDEN.write_text(json.dumps(golden | recorded, indent=1) + "\n")
    assert fingerprint == golden["tiny_model_fingerprint"]
    assert keys == golden["vgg16_hed_keys"]
    for got, recorded in zip(renders, golden["renders"], strict=True):
        assert without_activations(got) == without_activations(recorded), recorded["request"]
        assert [i["activation"] for i in got["images"]] == pytest.approx(
            [i["activation"] for i in recorded["images"]], rel=1e-5, abs=1e-9), recorded["request"]
