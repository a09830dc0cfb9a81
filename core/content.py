"""Content addressing: a key per image and an id per visualisation, derived from what they are.

Both hash the canonical JSON of the model's fingerprint, the layer, the filled-in params and the
engine version, so the same content always gets the same name and a changed model, param or
engine never reuses an old one.
"""

from __future__ import annotations

import hashlib
import json
import re

from core.spec import FilledParams

KEY_HEX_LENGTH = 32  # 128 bits
KEY_PATTERN = rf"^[0-9a-f]{{{KEY_HEX_LENGTH}}}$"


def is_key(text: str) -> bool:
    """Whether `text` has the shape of an image key or visualisation id."""
    return re.fullmatch(KEY_PATTERN, text) is not None


def digest(content: dict) -> str:
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:KEY_HEX_LENGTH]


def etag(data: bytes) -> str:
    """A strong ETag naming these bytes."""
    return '"' + hashlib.sha256(data).hexdigest()[:KEY_HEX_LENGTH] + '"'


def _content(model: str, fingerprint: str, layer: str, params: FilledParams, engine: str) -> dict:
    return {"model": model, "fingerprint": fingerprint, "layer": layer, "params": params.model_dump(mode="json"),
            "engine": engine}


def image_key(model: str, fingerprint: str, layer: str, filter_index: int | None, index: int, params: FilledParams,
              engine: str) -> str:
    content = {"kind": "image", "filter": filter_index, "index": index, **_content(model, fingerprint, layer, params, engine)}
    return digest(content)


def visualization_id(model: str, fingerprint: str, layer: str, filters: list[int | None], params: FilledParams,
                     engine: str) -> str:
    return digest({"kind": "visualization", "filters": filters, **_content(model, fingerprint, layer, params, engine)})


def sweep_id(model: str, fingerprint: str, layers: list[str], params: FilledParams, engine: str) -> str:
    return digest({"kind": "sweep", "layers": layers, **_content(model, fingerprint, "", params, engine)})
