from __future__ import annotations

import re

from fastapi import APIRouter, Header, Path
from fastapi.responses import Response

from service.dependencies import RedisDep, SettingsDep
from service.images.store import ImageStore
from service.problems import Problem
from service.visualizations.keys import KEY_PATTERN

router = APIRouter(prefix="/v1/images", tags=["images"])

IMMUTABLE = "public, max-age=31536000, immutable"


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Weak comparison, as RFC 9110 asks for If-None-Match."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    candidates = [c.strip().removeprefix("W/") for c in if_none_match.split(",")]
    return etag in candidates


def png_response(png: bytes, etag: str, if_none_match: str | None, cache_control: str) -> Response:
    headers = {"ETag": etag, "Cache-Control": cache_control}
    if etag_matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    return Response(png, media_type="image/png", headers=headers)


@router.get(
    "/{key}.png",
    summary="A rendered image by its content key",
    response_class=Response,
    responses={
        200: {"content": {"image/png": {}}, "description": "The PNG; its text chunks carry the full spec."},
        304: {"description": "The client's copy (If-None-Match) is current."},
        404: {"description": "Unknown key, or evicted from the cache", "content": {"application/problem+json": {}}},
    },
)
def get_image(
    redis: RedisDep,
    settings: SettingsDep,
    key: str = Path(description="Content key from a visualisation's `images[].url`."),
    if_none_match: str | None = Header(None),
) -> Response:
    found = ImageStore(redis, settings.image_ttl).png(key) if re.fullmatch(KEY_PATTERN, key) else None
    if found is None:
        raise Problem(404, "image-not-found",
                      f"Image {key} is not in the cache: it was never rendered or has been evicted. "
                      "POST its visualisation again (or GET the visualisation) to render it again.", "Image not found")
    png, etag = found
    return png_response(png, etag, if_none_match, IMMUTABLE)
