"""The size limit of uploads, enforced on the bytes as they arrive.

A Content-Length over the limit is refused before anything is read; a body sent without one
(chunked) is counted as it streams in and refused as soon as it passes the limit, so nothing over
the limit is ever spooled to disk, whatever the transfer encoding.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.errors import UploadTooLarge
from core.settings import MB
from service.problems import Problem, ProblemRaised

UPLOAD_PATH = "/v1/models"  # POST: a model; PUT <path>/<id>/weights: a standard model's weights


def is_upload(scope: Scope) -> bool:
    path = scope["path"]
    return (scope["method"] == "POST" and path == UPLOAD_PATH) or (
        scope["method"] == "PUT" and path.startswith(UPLOAD_PATH + "/") and path.endswith("/weights"))
MULTIPART_OVERHEAD = MB  # room for the form fields around an upload's file


def too_large(settings, received: str) -> Problem:
    error = UploadTooLarge(f"The request has {received} bytes; uploads are limited to {settings.max_upload_mb} MB.",
                           errors=[{"field": "file", "reason": "too large"}])
    return Problem.of(error)


class UploadSizeLimit:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_upload(scope):
            await self.app(scope, receive, send)
            return
        settings = scope["app"].state.settings
        limit = settings.max_upload_bytes + MULTIPART_OVERHEAD
        length = Headers(scope=scope).get("content-length", "")
        if length.isdigit() and int(length) > limit:
            await too_large(settings, length).response(scope["path"])(scope, receive, send)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise ProblemRaised(too_large(settings, f"more than {limit}"))
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except ProblemRaised as refused:
            if not started:
                await refused.problem.response(scope["path"])(scope, receive, send)
