"""Shared request dependencies as `Annotated` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from redis import Redis

from core.settings import Settings
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


def require_api_key(settings: Annotated[Settings, Depends(app_settings)], x_api_key: str | None = Header(None)) -> None:
    keys = settings.api_key_set
    if keys and x_api_key not in keys:
        raise Problem(401, "unauthorized", "This operation needs a valid X-API-Key header.", "Unauthorized",
                      headers={"WWW-Authenticate": "X-API-Key"})


RedisDep = Annotated[Redis, Depends(get_redis)]
SettingsDep = Annotated[Settings, Depends(app_settings)]
JsonBody = Depends(require_json)
ApiKey = Depends(require_api_key)
