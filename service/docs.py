"""The interactive documentation, served with its scripts from the installed package (no CDN: the
pages work on a machine without internet), and a schema for every problem answer."""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from service.problems import PROBLEM_JSON

ASSETS = Path(fastapi_offline.__file__).parent / "static"
ASSETS_URL = "/static/docs"


class FieldError(BaseModel):
    field: str = Field(description="The field, as a dotted path into the request (`params.steps`, `filters[2]`).")
    reason: str


class ProblemDetails(BaseModel):
    """An error, as RFC 9457 problem details."""

    type: str = Field(description="A URI naming the kind of problem, e.g. `/problems/invalid-request`.")
    title: str
    status: int
    detail: str = Field(description="What went wrong in this occurrence, and what to do about it.")
    instance: str | None = Field(None, description="The path that was requested.")
    errors: list[FieldError] | None = Field(None, description="Each invalid field, for a 422.")


def install(app: FastAPI) -> None:
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def swagger():
        return get_swagger_ui_html(openapi_url=app.openapi_url, title=f"{app.title} - API",
                                   swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
                                   swagger_favicon_url=f"{ASSETS_URL}/favicon.png")

    @app.get("/redoc", include_in_schema=False)
    def redoc():
        return get_redoc_html(openapi_url=app.openapi_url, title=f"{app.title} - reference",
                              redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js",
                              redoc_favicon_url=f"{ASSETS_URL}/favicon.png", with_google_fonts=False)

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            app.openapi_schema = with_problem_schema(schema)
        return app.openapi_schema

    app.openapi = openapi


def with_problem_schema(schema: dict) -> dict:
    """Every problem answer's content refers to the ProblemDetails schema."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    problem = ProblemDetails.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(problem.pop("$defs", {}))
    components["ProblemDetails"] = problem
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            for response in operation.get("responses", {}).values():
                content = response.get("content", {})
                if PROBLEM_JSON in content:
                    content[PROBLEM_JSON] = {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}
    return schema
