from __future__ import annotations

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import JSONResponse, Response
from redis import Redis

from core.errors import InvalidRequest, ModelIdTaken, ModelNotDeletable, NotFound
from core.models import BUILTIN_IDS, ModelInfo
from core.preprocessing import Mode
from core.standard import STANDARD_MODELS
from core.store import catalog as stored_catalog
from core.store import uploads as stored_uploads
from core.store.files import ModelFiles
from service.dependencies import ClientDep, ImageCacheDep, ModelFilesDep, RedisDep, SettingsDep
from service.models import catalog, uploads
from service.models.inspection import request_inspection
from service.models.weights import add_weights
from service.problems import responses

router = APIRouter(prefix="/v1/models", tags=["models"])


@router.get("", response_model=list[ModelInfo], summary="List the models: built in, standard catalog and uploads",
            description="A standard model whose weights file is absent is listed with `available: false` and the "
            "exact file name and directories the operator must provide.")
def list_models(redis: RedisDep, settings: SettingsDep) -> list[ModelInfo]:
    models = catalog.all_models(redis, settings.effective_weights_dir)
    for info in models:
        catalog.inspect_if_due(redis, settings, info)
    return models


@router.get("/{model_id}", response_model=ModelInfo, summary="One model with its visualisable layers",
            responses=responses({404: "Unknown model"}))
def get_model(model_id: str, redis: RedisDep, settings: SettingsDep) -> ModelInfo:
    info = catalog.get(redis, model_id, settings.effective_weights_dir)
    if info is None:
        raise NotFound(f"Model {model_id!r}")
    if info.status == "inspecting":
        catalog.inspect_if_due(redis, settings, info)
        info = catalog.get(redis, model_id, settings.effective_weights_dir) or info  # it may have ended meanwhile
    return info


@router.post(
    "",
    status_code=202,
    response_model=ModelInfo,
    summary="Upload a Keras 3 .keras model",
    description="The archive is checked before anything is deserialised (size, members, zip bombs, an allow-list "
    "of built-in layers, no custom objects, an image input); a worker then loads it with `safe_mode=True` and "
    "publishes its layers. Answers 202 with `Location`; poll it until `status` is `ready` (or `rejected`).",
    responses=responses({401: "Missing or wrong API key", 409: "Id taken", 413: "File too large",
                         422: "Refused file", 429: "Over the rate limit; see `Retry-After`"}),
)
def upload_model(
    redis: RedisDep,
    settings: SettingsDep,
    _client: ClientDep,
    image_cache: ImageCacheDep,
    files: ModelFilesDep,
    file: UploadFile = File(description="The .keras file."),
    id: str = Form(description="1-63 characters: a-z, 0-9, '.', '_', '-'."),
    name: str = Form(max_length=200, description="Display name."),
    preprocessing: Mode = Form(description="How the model expects its input."),
    input_range: str = Form("0,255", description="For `none`: the input values of black and white, e.g. 0,255 or 0,1."),
) -> JSONResponse:
    uploads.check_id(id)
    existing = stored_catalog.published(redis, id)
    if id in STANDARD_MODELS or id in BUILTIN_IDS or (existing is not None and existing.source != "upload"):
        raise ModelIdTaken(f"{id!r} is a built-in or standard model; choose another id.")
    spec = uploads.upload_spec(preprocessing, input_range)
    if (file.filename or "").lower().endswith((".h5", ".hdf5")):
        raise InvalidRequest("file", uploads.LEGACY_FORMAT)
    data = file.file.read(settings.max_upload_bytes + 1)
    uploads.check_archive(data, settings.max_upload_bytes)
    previous = stored_uploads.get(redis, id)
    file_sha256 = files.put(data)  # once, for every worker to fetch
    record = stored_uploads.UploadRecord(id=id, name=name, preprocessing=spec, file_sha256=file_sha256)
    stored_uploads.save(redis, record)
    if previous is not None:
        # Its images stop being served until the new upload is inspected; they come back if it
        # computes the same (a model saved again), since its fingerprint then owns them.
        stored_uploads.revoke(redis, id, previous.fingerprint)
        image_cache.revocations_changed()
        if previous.file_sha256 != file_sha256:
            forget_file(redis, files, previous.file_sha256)
    request_inspection(redis, settings, id, version=file_sha256[:16])
    info = catalog.get(redis, id, settings.effective_weights_dir)
    return JSONResponse(info.model_dump(mode="json"), status_code=202,
                        headers={"Location": f"/v1/models/{id}", "Retry-After": str(settings.retry_after)})


@router.put(
    "/{model_id}/weights",
    status_code=202,
    response_model=ModelInfo,
    summary="Add a standard model's weights file for every worker",
    description="The file Keras saves for the model (`weights_file` in its catalog entry, HDF5) is stored once in "
    "the model file store, from which every worker fetches it; the model is then inspected again. Replacing "
    "the file stops serving the images of the previous weights. Answers 202 with `Location`; poll it until "
    "`status` is `ready`.",
    responses=responses({401: "Missing or wrong API key", 404: "Not a standard model", 413: "File too large",
                         422: "Not an HDF5 weights file", 429: "Over the rate limit; see `Retry-After`"}),
)
def put_weights(model_id: str, redis: RedisDep, settings: SettingsDep, _client: ClientDep, image_cache: ImageCacheDep,
                files: ModelFilesDep, file: UploadFile = File(description="The weights file (.h5).")) -> JSONResponse:
    add_weights(redis, files, settings, model_id, file.file.read(settings.max_upload_bytes + 1))
    image_cache.revocations_changed()
    info = catalog.get(redis, model_id, settings.effective_weights_dir)
    return JSONResponse(info.model_dump(mode="json"), status_code=202,
                        headers={"Location": f"/v1/models/{model_id}", "Retry-After": str(settings.retry_after)})


@router.delete("/{model_id}", status_code=204, summary="Remove an uploaded model",
               description="Its file and catalog entry go, and its cached images stop being served.",
               responses=responses({401: "Missing or wrong API key", 404: "Unknown model",
                                    409: "Not an uploaded model", 429: "Over the rate limit; see `Retry-After`"}))
def delete_model(model_id: str, redis: RedisDep, settings: SettingsDep, _client: ClientDep,
                 image_cache: ImageCacheDep, files: ModelFilesDep) -> Response:
    record = stored_uploads.get(redis, model_id)
    if record is None:
        if catalog.get(redis, model_id, settings.effective_weights_dir) is not None:
            raise ModelNotDeletable(f"{model_id!r} is built in or standard; only uploads can be deleted.")
        raise NotFound(f"Model {model_id!r}")
    stored_uploads.remove(redis, record)
    image_cache.revocations_changed()
    stored_catalog.unpublish(redis, model_id)
    forget_file(redis, files, record.file_sha256)
    return Response(status_code=204)


def forget_file(redis: Redis, files: ModelFiles, file_sha256: str) -> None:
    """Delete a stored model file that no upload refers to any more."""
    if not stored_uploads.file_in_use(redis, file_sha256):
        files.delete(file_sha256)
