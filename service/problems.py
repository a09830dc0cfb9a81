"""RFC 9457 problem details: the one place where errors become HTTP answers.

Domain errors (core/errors.py) carry a slug; `STATUS` gives each slug its status here, at the
edge, and a failed job's recorded slug is reported with the same status. `Problem` is for what
only HTTP can get wrong (content types, keys, JSON syntax, Redis being away).
"""

from __future__ import annotations

from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from redis.exceptions import OutOfMemoryError, RedisError
from starlette.exceptions import HTTPException as StarletteHTTPException

from core import errors
from core.store.jobs import JobError
from service.routes import allowed_methods

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "/problems/"

STATUS = {
    errors.InvalidRequest.slug: 422,
    errors.NotFound.slug: 404,
    errors.ImageNotFound.slug: 404,
    errors.NotFinished.slug: 409,
    errors.Cancelled.slug: 409,
    errors.ModelNotReady.slug: 409,
    errors.ModelUnavailable.slug: 409,
    errors.ModelIdTaken.slug: 409,
    errors.ModelNotDeletable.slug: 409,
    errors.StaleModel.slug: 409,  # the model changed under the request: submit it again
    errors.KeyRequired.slug: 401,  # work asked for without a key, where keys are configured
    errors.UploadTooLarge.slug: 413,
    errors.RateLimited.slug: 429,
    errors.TooMuchWork.slug: 429,
    errors.TooCostly.slug: 422,
    errors.UnusableModel.slug: 422,
    errors.RenderFailed.slug: 500,
}


def status_of(slug: str) -> int:
    return STATUS.get(slug, 500)


class Problem(Exception):
    """An error only the HTTP layer knows about; `slug` names its type."""

    def __init__(self, status: int, slug: str, detail: str, title: str | None = None,
                 errors: list[dict] | None = None, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.title = title or HTTPStatus(status).phrase
        self.detail = detail
        self.errors = errors
        self.headers = headers

    @classmethod
    def of(cls, error: errors.FilterscopeError) -> Problem:
        headers = {"Retry-After": str(error.retry_after)} if error.retry_after else None
        return cls(status_of(error.slug), error.slug, error.detail, error.title, error.errors, headers)

    def body(self, instance: str | None = None) -> dict:
        body = {"type": PROBLEM_BASE + self.slug, "title": self.title, "status": self.status, "detail": self.detail}
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = self.errors
        return body

    def response(self, instance: str | None = None) -> JSONResponse:
        return JSONResponse(self.body(instance), status_code=self.status, headers=self.headers, media_type=PROBLEM_JSON)


def redis_problem(error: RedisError) -> Problem:
    """A Redis that is full (507: its operator must act) or away (503: retry shortly)."""
    if isinstance(error, OutOfMemoryError):
        return Problem(507, "storage-full", "Redis is out of memory and refuses new state (its maxmemory is reached "
                       "and it must not evict): the operator must give it more memory. Nothing stored was lost.",
                       "Storage full", headers={"Retry-After": "60"})
    return redis_unavailable(error)


def redis_unavailable(error: Exception) -> Problem:
    return Problem(503, "service-unavailable", f"Redis did not answer in time ({type(error).__name__}); retry shortly.",
                   headers={"Retry-After": "5"})


class ProblemRaised(StarletteHTTPException):
    """A problem raised where only an HTTPException gets through as it is: from a request's
    `receive`, while FastAPI parses the body (it turns other errors there into a 400)."""

    def __init__(self, problem: Problem):
        super().__init__(problem.status, problem.detail)
        self.problem = problem


def job_problem(error: JobError) -> dict:
    """A failed job's error as the problem object of its visualisation."""
    return {"type": PROBLEM_BASE + error.slug, "title": error.title, "status": status_of(error.slug),
            "detail": error.detail}


def responses(described: dict[int, str]) -> dict[int, dict]:
    """OpenAPI entries for problem answers: {status: description}."""
    return {status: {"description": text, "content": {PROBLEM_JSON: {}}} for status, text in described.items()}


def field_name(location: tuple) -> str:
    parts = [str(p) for p in location if p != "body"]
    name = ""
    for part in parts:
        name += f"[{part}]" if part.isdigit() else (f".{part}" if name else part)
    return name or "body"


def validation_problem(exc: RequestValidationError) -> Problem:
    errors_found = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors_found):
        reason = next(e for e in errors_found if e.get("type") == "json_invalid").get("ctx", {}).get("error", "invalid JSON")
        return Problem(400, "malformed-json", f"The body is not valid JSON: {reason}.", "Malformed JSON",
                       [{"field": "body", "reason": f"not valid JSON: {reason}"}])
    listed = [{"field": field_name(tuple(e["loc"])), "reason": friendly_reason(e)} for e in errors_found]
    detail = "; ".join(f"{e['field']}: {e['reason']}" for e in listed)
    return Problem(422, errors.InvalidRequest.slug, detail, errors.InvalidRequest.title, listed)


def friendly_reason(error: dict) -> str:
    if error.get("type") == "extra_forbidden":
        return "unknown field (check its spelling; unknown fields are rejected rather than ignored)"
    if error.get("type") == "missing":
        return "required field is missing"
    return error.get("msg", "invalid").removeprefix("Value error, ")


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def on_problem(request: Request, exc: Problem):
        return exc.response(request.url.path)

    @app.exception_handler(errors.FilterscopeError)
    async def on_domain_error(request: Request, exc: errors.FilterscopeError):
        return Problem.of(exc).response(request.url.path)

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, exc: RequestValidationError):
        return validation_problem(exc).response(request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException):
        if isinstance(exc, ProblemRaised):
            return exc.problem.response(request.url.path)
        slug = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"No resource at {request.url.path}."
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            headers = (headers or {}) | {"Allow": ", ".join(allowed_methods(request.app, request.scope))}
        return Problem(exc.status_code, slug, detail, headers=headers).response(request.url.path)

    @app.exception_handler(RedisError)
    async def on_redis(request: Request, exc: RedisError):
        return redis_problem(exc).response(request.url.path)

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception):
        return Problem(500, "internal-error", "The server failed unexpectedly; the error has been logged.").response(
            request.url.path
        )
