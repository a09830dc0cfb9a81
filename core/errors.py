"""Typed domain errors. Each kind has a stable slug; the HTTP edge (service/problems.py) turns it
into problem+json with the status of its kind, and a failed job records it the same way."""

from __future__ import annotations


class FilterscopeError(Exception):
    """An error a client can cause or must know about."""

    slug = "error"
    title = "Error"

    def __init__(self, detail: str, errors: list[dict] | None = None, retry_after: int | None = None):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.retry_after = retry_after  # seconds after which the same request may succeed


class InvalidRequest(FilterscopeError):
    """A request that parsed but asks for something that does not exist or is out of range."""

    slug, title = "invalid-request", "Invalid request"

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}", errors=[{"field": field, "reason": reason}])
        self.field, self.reason = field, reason


class NotFound(FilterscopeError):
    slug, title = "not-found", "Not found"

    def __init__(self, what: str):
        super().__init__(f"{what} does not exist.")


class ImageNotFound(FilterscopeError):
    slug, title = "image-not-found", "Image not found"


class Cancelled(FilterscopeError):
    """A job stopped at a client's request (DELETE); the images it finished are kept."""

    slug, title = "cancelled", "Cancelled"


class NotFinished(FilterscopeError):
    slug, title = "not-finished", "Not finished"


class ModelNotReady(FilterscopeError):
    """A model that exists but is still being loaded and inspected: retry shortly."""

    slug, title = "model-not-ready", "Model not ready"


class ModelUnavailable(FilterscopeError):
    """A model that cannot be rendered: weights missing, a file that failed to load, or one no
    worker can load."""

    slug, title = "model-unavailable", "Model unavailable"


class ModelIdTaken(FilterscopeError):
    slug, title = "model-id-taken", "Conflict"


class ModelNotDeletable(FilterscopeError):
    slug, title = "model-not-deletable", "Conflict"


class UploadTooLarge(FilterscopeError):
    slug, title = "upload-too-large", "Upload too large"


class RateLimited(FilterscopeError):
    """More requests than the key's rate allows: retry after `retry_after` seconds."""

    slug, title = "rate-limited", "Too many requests"


class TooMuchWork(FilterscopeError):
    """The key already has as much work queued or running as it may."""

    slug, title = "too-much-work", "Too much work queued"


class TooCostly(FilterscopeError):
    """One request asks for more computation than a request may."""

    slug, title = "too-costly", "Request too costly"


class UnusableModel(FilterscopeError):
    """A model that loaded but cannot be visualised (no image input, no visualisable layer)."""

    slug, title = "unusable-model", "Model not usable"


class KeyRequired(FilterscopeError):
    """Work that must be counted against a client, asked for without a valid API key."""

    slug, title = "unauthorized", "Unauthorized"


class StaleModel(FilterscopeError):
    """The worker's model differs from the one the request was validated against: submit again."""

    slug, title = "stale-model", "Model changed"


class RenderFailed(FilterscopeError):
    """Anything else that went wrong while rendering."""

    slug, title = "render-failed", "Rendering failed"
