"""The gallery page at `/`: static HTML, CSS and JavaScript shipped in the package (no CDN, no build
step), talking to the API like any other client."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"


def install(app: FastAPI) -> None:
    app.mount("/gallery", StaticFiles(directory=STATIC), name="gallery")

    @app.get("/", include_in_schema=False)
    def gallery() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})
