"""HEAD wherever GET is, OPTIONS answered with `Allow`, and the same `Allow` on a 405.

FastAPI routes answer only the methods they declare, and a path served by several routes (GET and
DELETE of one visualisation) would name only the first route's methods in a 405. Here a path's
methods are gathered over every route that matches it. CORS preflights are answered before this.
"""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.problems import Problem


METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(app, scope: Scope) -> list[str]:
    """Every method some route answers at the scope's path; empty when no route has the path."""
    methods = set()
    for route in app.router.routes:
        if isinstance(route, Mount):  # static files: read only
            methods |= {"GET"} if route.matches(scope)[0] != Match.NONE else set()
            continue
        methods |= {method for method in METHODS if route.matches(dict(scope, method=method))[0] == Match.FULL}
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods | {"OPTIONS"}) if methods else []


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
        await self.app(scope, receive, allow_on_405(scope, send))


async def options(scope: Scope, receive: Receive, send: Send) -> None:
    allowed = allowed_methods(scope["app"], scope)
    if allowed:
        response = Response(status_code=204, headers={"Allow": ", ".join(allowed)})
    else:
        response = Problem(404, "not-found", f"No resource at {scope['path']}.").response(scope["path"])
    await response(scope, receive, send)


def allow_on_405(scope: Scope, send: Send) -> Send:
    """A 405 names every method of its path, not only those of the first route that matched."""

    async def sender(message: Message) -> None:
        if message["type"] == "http.response.start" and message["status"] == 405:
            headers = [(name, value) for name, value in message.get("headers", []) if name.lower() != b"allow"]
            allowed = ", ".join(allowed_methods(scope["app"], scope)).encode()
            message = dict(message, headers=headers + [(b"allow", allowed)])
        await send(message)

    return sender


def without_body(send: Send) -> Send:
    """Pass the GET answer's status and headers (its Content-Length included), not its body."""

    async def sender(message: Message) -> None:
        if message["type"] == "http.response.body":
            if message.get("more_body", False):
                return  # the last part, sent empty below, ends the answer
            message = {"type": "http.response.body", "body": b"", "more_body": False}
        await send(message)

    return sender
