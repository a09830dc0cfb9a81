"""Conditional GETs: strong ETags, If-None-Match and 304."""

from __future__ import annotations

from fastapi.responses import Response

IMMUTABLE = "public, max-age=31536000, immutable"  # content-addressed: the URL names the bytes
DERIVED = "public, max-age=86400"  # montages and animations of immutable images


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Weak comparison, as RFC 9110 asks for If-None-Match."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    candidates = [c.strip().removeprefix("W/") for c in if_none_match.split(",")]
    return etag in candidates


def not_modified(etag: str, if_none_match: str | None, cache_control: str) -> Response | None:
    """A bodiless 304 when the client's copy is current, else None."""
    if etag_matches(if_none_match, etag):
        return Response(status_code=304, headers={"ETag": etag, "Cache-Control": cache_control})
    return None


def cached_response(body: bytes, media_type: str, etag: str, cache_control: str,
                    headers: dict[str, str] | None = None) -> Response:
    return Response(body, media_type=media_type, headers={"ETag": etag, "Cache-Control": cache_control} | (headers or {}))
