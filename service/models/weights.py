"""Adding a standard model's weights for every worker: checked, stored once in the model file
store, and the model inspected again with them. Used by PUT /v1/models/{id}/weights and by
`filterscope weights add`."""

from __future__ import annotations

from redis import Redis

from core.errors import InvalidRequest, NotFound, UploadTooLarge
from core.settings import Settings
from core.standard import STANDARD_MODELS
from core.store import catalog, keys, uploads, weights
from core.store.files import ModelFiles
from core.store.weights import StoredWeights
from service.models.inspection import request_inspection
from service.models.uploads import HDF5_SIGNATURE


def check_weights(model_id: str, data: bytes, max_bytes: int) -> None:
    if model_id not in STANDARD_MODELS:
        raise NotFound(f"Standard model {model_id!r} (weights are added to one of {', '.join(STANDARD_MODELS)})")
    if len(data) > max_bytes:
        raise UploadTooLarge(f"The file has {len(data)} bytes; the limit is {max_bytes}.",
                             errors=[{"field": "file", "reason": f"larger than {max_bytes} bytes"}])
    if not data.startswith(HDF5_SIGNATURE):
        expected = STANDARD_MODELS[model_id].weights_file
        raise InvalidRequest("file", f"not an HDF5 weights file; {model_id!r} needs {expected}, the file Keras saves")


def add_weights(redis: Redis, files: ModelFiles, settings: Settings, model_id: str, data: bytes) -> StoredWeights:
    """Store the file and publish it as the model's weights; the model is inspected anew, and the
    images of the weights it replaces stop being served."""
    check_weights(model_id, data, settings.max_upload_bytes)
    previous = weights.get(redis, model_id)
    stored = StoredWeights(model=model_id, file_sha256=files.put(data), size=len(data))
    weights.save(redis, stored)
    if previous is None or previous.file_sha256 != stored.file_sha256:
        if (published := catalog.published(redis, model_id)) is not None:
            uploads.revoke(redis, model_id, published.fingerprint)
        catalog.unpublish(redis, model_id)
        redis.hdel(keys.INSPECTION_FAILURES, model_id)
        if previous is not None and previous.file_sha256 != stored.file_sha256:
            files.delete(previous.file_sha256)
    request_inspection(redis, settings, model_id)
    return stored
