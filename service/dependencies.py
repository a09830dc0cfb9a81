"""Shared request dependencies as `Annotated` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from redis import Redis

from service.problems import Problem
from service.settings import Settings, get_settings


def get_redis(request: Request) -> Redis:
    return request.app.state.redis


def require_json(request: Request) -> None:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise Problem(
            415,
            "unsupported-media-type",
            f"Send the body as application/json (got {content_type or 'no content type'}).",
            errors=[{"field": "content-type", "reason": "must be application/json"}],
        )


RedisDep = Annotated[Redis, Depends(get_redis)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
JsonBody = Depends(require_json)
