"""The methods a path answers, gathered over every route that matches it: FastAPI's own 405 names
only the methods of the first route that matched (GET and DELETE of one visualisation are two)."""

from __future__ import annotations

from starlette.routing import Match, Mount
from starlette.types import Scope

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
