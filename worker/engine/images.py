"""From engine output to the PNG the service serves: 8-bit RGB with its full spec in text chunks."""

from __future__ import annotations

import io
import json

import numpy as np
from PIL import Image
from PIL.PngImagePlugin import PngInfo

SPEC_CHUNK = "filterscope"


def to_8bit(rgb) -> np.ndarray:
    """RGB in [0, 1] to 8-bit, rounded and clipped."""
    return np.clip(np.round(np.asarray(rgb) * 255.0), 0, 255).astype(np.uint8)


def encode_png(pixels: np.ndarray, spec: dict) -> bytes:
    """PNG bytes of an (H, W, 3) uint8 image; `spec` goes into an iTXt chunk as JSON, plus a
    readable title. The encoding is deterministic: same pixels and spec, same bytes."""
    info = PngInfo()
    info.add_text("Title", f"{spec.get('model')} {spec.get('layer')} filter {spec.get('filter')} #{spec.get('index', 0)}")
    info.add_text("Software", f"Filterscope engine {spec.get('engine')}")
    info.add_itxt(SPEC_CHUNK, json.dumps(spec, sort_keys=True))
    out = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def read_spec(png: bytes) -> dict:
    return json.loads(Image.open(io.BytesIO(png)).text[SPEC_CHUNK])


def encode_filmstrip(frames: np.ndarray) -> bytes:
    """(frames, h, w, 3) uint8 as one PNG, frames stacked top to bottom."""
    count, height, width, _ = frames.shape
    out = io.BytesIO()
    Image.fromarray(frames.reshape(count * height, width, 3), "RGB").save(out, format="PNG")
    return out.getvalue()
