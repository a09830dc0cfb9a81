from __future__ import annotations

from fastapi import APIRouter

from service.dependencies import RedisDep, SettingsDep
from service.models import catalog
from service.models.catalog import ModelInfo
from service.models.inspection import request_inspection
from service.problems import not_found

router = APIRouter(prefix="/v1/models", tags=["models"])


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
