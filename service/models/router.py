from __future__ import annotations

from pathlib import Path
from typing import Literal

from fastapi import APIRouter, Depends, File, Form, Header, UploadFile
from fastapi.responses import JSONResponse, Response

from service.dependencies import RedisDep, SettingsDep
from service.models import catalog, uploads
from service.models.catalog import ModelInfo
from service.models.inspection import request_inspection
from service.models.standard import BUILTIN_IDS, STANDARD_MODELS
from service.problems import Problem, invalid, not_found

router = APIRouter(prefix="/v1/models", tags=["models"])
PROBLEM = {"content": {"application/problem+json": {}}}


@router.get("", response_model=list[ModelInfo], summary="List the models: built in, standard catalog and uploads",
            description="A standard model whose weights file is absent is listed with `available: false` and the "
            "exact file name and directories the operator must provide.")
def list_models(redis: RedisDep, settings: SettingsDep) -> list[ModelInfo]:
    models = catalog.all_models(redis, settings.effective_weights_dir)
    for info in models:
        if info.status == "inspecting" and info.source == "standard":
            request_inspection(redis, settings, info.id)
    return models


@router.get("/{model_id}", response_model=ModelInfo, summary="One model with its visualisable layers",
            responses={404: {"description": "Unknown model", "content": {"application/problem+json": {}}}})
def get_model(model_id: str, redis: RedisDep, settings: SettingsDep) -> ModelInfo:
    info = catalog.get(redis, model_id, settings.effective_weights_dir)
    if info is None:
        raise not_found(f"Model {model_id!r}")
    if info.status == "inspecting" and info.source == "standard":
        request_inspection(redis, settings, model_id)
    return info


def require_api_key(settings: SettingsDep, x_api_key: str | None = Header(None)) -> None:
    keys = settings.api_key_set
    if keys and x_api_key not in keys:
        raise Problem(401, "unauthorized", "This operation needs a valid X-API-Key header.", "Unauthorized",
                      headers={"WWW-Authenticate": "X-API-Key"})


ApiKey = Depends(require_api_key)


@router.post(
    "",
    status_code=202,
    response_model=ModelInfo,
    dependencies=[ApiKey],
    summary="Upload a Keras 3 .keras model",
    description="The archive is checked before anything is deserialised (size, members, zip bombs, an allow-list "
    "of built-in layers, no custom objects, an image input); a worker then loads it with `safe_mode=True` and "
    "publishes its layers. Answers 202 with `Location`; poll it until `status` is `ready` (or `rejected`).",
    responses={401: {"description": "Missing or wrong API key", **PROBLEM}, 409: {"description": "Id taken", **PROBLEM},
               413: {"description": "File too large", **PROBLEM}, 422: {"description": "Refused file", **PROBLEM}},
)
def upload_model(
    redis: RedisDep,
    settings: SettingsDep,
    file: UploadFile = File(description="The .keras file."),
    id: str = Form(description="1-63 characters: a-z, 0-9, '.', '_', '-'."),
    name: str = Form(max_length=200, description="Display name."),
    preprocessing: Literal["caffe", "tf", "torch", "none"] = Form(description="How the model expects its input."),
    input_range: str = Form("0,255", description="For `none`: the input values of black and white, e.g. 0,255 or 0,1."),
) -> JSONResponse:
    uploads.check_id(id)
    existing = catalog.published(redis, id)
    if id in STANDARD_MODELS or id in BUILTIN_IDS or (existing is not None and existing.source != "upload"):
        raise Problem(409, "model-id-taken", f"{id!r} is a built-in or standard model; choose another id.")
    spec = uploads.upload_spec(preprocessing, input_range)
    if (file.filename or "").lower().endswith((".h5", ".hdf5")):
        raise invalid("file", uploads.LEGACY_FORMAT)
    max_bytes = settings.max_upload_mb * 1024**2
    data = file.file.read(max_bytes + 1)
    uploads.check_archive(data, max_bytes)
    previous = uploads.get(redis, id)
    path, fingerprint = uploads.store_file(data, settings.uploads_dir, id)
    uploads.save(redis, uploads.UploadRecord(id=id, name=name, preprocessing=spec, fingerprint=fingerprint,
                                             file=str(path)))
    if previous is not None and previous.fingerprint != fingerprint:
        uploads.revoke(redis, id, previous.fingerprint)
        Path(previous.file).unlink(missing_ok=True)
    request_inspection(redis, settings, id, version=fingerprint[:16])
    info = catalog.get(redis, id, settings.effective_weights_dir)
    return JSONResponse(info.model_dump(mode="json"), status_code=202,
                        headers={"Location": f"/v1/models/{id}", "Retry-After": str(settings.retry_after)})


@router.delete("/{model_id}", status_code=204, dependencies=[ApiKey], summary="Remove an uploaded model",
               description="Its file and catalog entry go, and its cached images stop being served.",
               responses={404: {"description": "Unknown model", **PROBLEM},
                          409: {"description": "Not an uploaded model", **PROBLEM}})
def delete_model(model_id: str, redis: RedisDep, settings: SettingsDep) -> Response:
    record = uploads.get(redis, model_id)
    if record is None:
        if catalog.get(redis, model_id, settings.effective_weights_dir) is not None:
            raise Problem(409, "model-not-deletable", f"{model_id!r} is built in or standard; only uploads can be "
                          "deleted.")
        raise not_found(f"Model {model_id!r}")
    uploads.remove(redis, record)
    catalog.unpublish(redis, model_id)
    return Response(status_code=204)
