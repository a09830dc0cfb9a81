from __future__ import annotations

from fastapi import APIRouter, Header, Path
from fastapi.responses import Response

from core.content import is_key
from core.errors import ImageNotFound
from service.caching import IMMUTABLE, cached_response, not_modified
from service.dependencies import ImageStoreDep, MetricsDep
from service.problems import responses

router = APIRouter(prefix="/v1/images", tags=["images"])


@router.get(
    "/{key}.png",
    summary="A rendered image by its content key",
    response_class=Response,
    responses={
        200: {"content": {"image/png": {}}, "description": "The PNG; its text chunks carry the full spec."},
        304: {"description": "The client's copy (If-None-Match) is current."},
        **responses({404: "Unknown key, or evicted from the cache"}),
    },
)
def get_image(
    images: ImageStoreDep,
    metrics: MetricsDep,
    key: str = Path(description="Content key from a visualisation's `images[].url`."),
    if_none_match: str | None = Header(None),
) -> Response:
    found = images.png(key) if is_key(key) else None
    if found is None:
        raise ImageNotFound(f"Image {key} is not in the cache: it was never rendered or has been evicted. "
                            "POST its visualisation again (or GET the visualisation) to render it again.")
    png, etag = found
    metrics.images_served.inc()
    return not_modified(etag, if_none_match, IMMUTABLE) or cached_response(png, "image/png", etag, IMMUTABLE)
