"""HEAD wherever GET is, and OPTIONS answered with the path's `Allow` (CORS preflights are answered
before this)."""

from __future__ import annotations

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.problems import Problem
from service.routes import allowed_methods


HEAD = "filterscope.head"  # set in the scope of a HEAD answered as a GET: a stream can end at once


class HttpMethods:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if scope["method"] == "OPTIONS":
            return await options(scope, receive, send)
        if scope["method"] == "HEAD":
            scope, send = dict(scope, method="GET", **{HEAD: True}), without_body(send)
        await self.app(scope, receive, send)


async def options(scope: Scope, receive: Receive, send: Send) -> None:
    allowed = allowed_methods(scope["app"], scope)
    if allowed:
        response = Response(status_code=204, headers={"Allow": ", ".join(allowed)})
    else:
        response = Problem(404, "not-found", f"No resource at {scope['path']}.").response(scope["path"])
    await response(scope, receive, send)


def without_body(send: Send) -> Send:
    """Pass the GET answer's status and headers (its Content-Length included), not its body."""

    async def sender(message: Message) -> None:
        if message["type"] == "http.response.body":
            if message.get("more_body", False):
                return  # the last part, sent empty below, ends the answer
            message = {"type": "http.response.body", "body": b"", "more_body": False}
        await send(message)

    return sender
