from __future__ import annotations

from fastapi import APIRouter

from service.dependencies import RedisDep
from service.models import catalog
from service.models.catalog import ModelInfo
from service.problems import not_found

router = APIRouter(prefix="/v1/models", tags=["models"])


@router.get("", response_model=list[ModelInfo], summary="List the models that can be visualised")
def list_models(redis: RedisDep) -> list[ModelInfo]:
    return catalog.all_models(redis)


@router.get("/{model_id}", response_model=ModelInfo, summary="One model with its visualisable layers",
            responses={404: {"description": "Unknown model", "content": {"application/problem+json": {}}}})
def get_model(model_id: str, redis: RedisDep) -> ModelInfo:
    info = catalog.get(redis, model_id)
    if info is None:
        raise not_found(f"Model {model_id!r}")
    return info
