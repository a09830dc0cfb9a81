"""Shared request dependencies as `Annotated` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader
from redis import Redis

from core.settings import Settings
from core.store.files import ModelFiles
from core.store.images import ImageStore
from service.images.fastpath import ImageCache
from service.metrics import Metrics
from service.problems import Problem


def get_redis(request: Request) -> Redis:
    return request.app.state.redis


def app_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    return request.app.state.settings


def require_json(request: Request) -> None:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise Problem(
            415,
            "unsupported-media-type",
            f"Send the body as application/json (got {content_type or 'no content type'}).",
            errors=[{"field": "content-type", "reason": "must be application/json"}],
        )


API_KEY = APIKeyHeader(name="X-API-Key", auto_error=False,
                       description="Needed by state-changing requests when the server has keys configured.")


def client(request: Request, _key: Annotated[str | None, Security(API_KEY)]) -> str:
    """Whom the request counts against, as access control found it before the body was read."""
    return request.state.client


def get_metrics(request: Request) -> Metrics:
    return request.app.state.metrics


def get_image_store(request: Request) -> ImageStore:
    return ImageStore(request.app.state.cache_redis, request.app.state.redis, request.app.state.settings.image_ttl)


def get_model_files(request: Request) -> ModelFiles:
    return request.app.state.model_files


def get_image_cache(request: Request) -> ImageCache:
    return request.app.state.image_cache


RedisDep = Annotated[Redis, Depends(get_redis)]
ImageCacheDep = Annotated[ImageCache, Depends(get_image_cache)]
ModelFilesDep = Annotated[ModelFiles, Depends(get_model_files)]
ImageStoreDep = Annotated[ImageStore, Depends(get_image_store)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
SettingsDep = Annotated[Settings, Depends(app_settings)]
JsonBody = Depends(require_json)
ClientDep = Annotated[str, Depends(client)]
