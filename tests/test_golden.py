"""Content keys and PNG bytes for a fixed set of requests are exactly those recorded in
tests/data/golden.json: images cached by earlier releases of the same engine are still found and
served, and the pixels have not drifted.

The record is redone only when the engine's pixels change on purpose, together with a new
ENGINE_VERSION: run `FILTERSCOPE_RECORD_GOLDEN=1 pytest tests/test_golden.py`.
"""

from __future__ import annotations

import hashlib
import json
import os

from service.visualizations.schemas import VisualizationRequest
from service.visualizations.validation import build_record
from tests.conftest import ROOT, TINY_MODEL_FILE

GOLDEN = ROOT / "tests" / "data" / "golden.json"
RECORDING = os.environ.get("FILTERSCOPE_RECORD_GOLDEN") == "1"


def render_case(api, run_jobs, body: dict) -> dict:
    created = api.post("/v1/visualizations", json=body).json()
    run_jobs()
    done = api.get(f"/v1/visualizations/{created['id']}").json()
    assert done["status"] == "finished", done
    images = [{"filter": i["filter"], "index": i["index"], "key": i["url"].split("/")[-1].removesuffix(".png"),
               "png_sha256": hashlib.sha256(api.get(i["url"]).content).hexdigest(), "activation": i["activation"]}
              for i in done["images"]]
    return {"request": body, "id": done["id"], "params": done["params"], "images": images}


def test_keys_and_png_bytes_are_those_recorded(api, run_jobs, vgg16):
    golden = json.loads(GOLDEN.read_text())
    model_id = golden["renders"][0]["request"]["model"]
    uploaded = api.post("/v1/models", files={"file": ("m.keras", TINY_MODEL_FILE.read_bytes())},
                        data={"id": model_id, "name": "golden", "preprocessing": "none", "input_range": "0,1"})
    assert uploaded.status_code == 202, uploaded.text
    run_jobs()
    assert api.get(f"/v1/models/{model_id}").json()["fingerprint"] == golden["model_file_sha256"]

    renders = [render_case(api, run_jobs, case["request"]) for case in golden["renders"]]
    pinned = vgg16.info.model_copy(update={"fingerprint": golden["vgg16_hed_fingerprint"]})
    keys = []
    for case in golden["vgg16_hed_keys"]:
        record = build_record(VisualizationRequest.model_validate(case["request"]), pinned)
        keys.append({"request": case["request"], "id": record.id, "params": record.params.model_dump(mode="json"),
                     "keys": [[t.filter, t.index, t.key] for t in record.images]})
    if RECORDING:
        GOLDEN.write_text(json.dumps(golden | {"renders": renders, "vgg16_hed_keys": keys}, indent=1) + "\n")
    assert keys == golden["vgg16_hed_keys"]
    for got, recorded in zip(renders, golden["renders"], strict=True):
        assert got == recorded, recorded["request"]
