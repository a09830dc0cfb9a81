"""A small typed client for other services: submit, follow with a progress callback, save the images.

    from filterscope.client import Client

    with Client("http://127.0.0.1:8000", api_key=None) as client:
        done = client.render("vgg16-hed", "block3_conv1", [0, 1], directory="out",
                             on_progress=lambda p: print(p.step, "/", p.steps), steps=64)

`AsyncClient` has the same methods, as coroutines. Answers are the API's own models
(`Visualization`, `Sweep`); an error answer raises `ProblemError` with the problem's fields.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import AsyncIterator, Callable, Iterable, Iterator

import httpx

from core.store.jobs import Progress
from service.sweeps.schemas import Sweep
from service.visualizations.schemas import Visualization

ProgressCallback = Callable[[Progress], None]
TERMINAL = ("finished", "failed", "cancelled", "expired")
STREAM_TIMEOUT = httpx.Timeout(30.0, read=60.0)  # the server pings a quiet stream every 15 s


class ProblemError(Exception):
    """An error answer of the API (RFC 9457 problem details)."""

    def __init__(self, problem: dict):
        self.problem = problem
        self.status = problem.get("status")
        self.errors = problem.get("errors") or []
        super().__init__(f"{problem.get('status')} {problem.get('title')}: {problem.get('detail')}")


def checked(response: httpx.Response) -> httpx.Response:
    if response.status_code >= 400:
        try:
            problem = response.json()
        except ValueError:
            problem = {"status": response.status_code, "title": response.reason_phrase, "detail": response.text[:200]}
        raise ProblemError(problem)
    return response


def request_body(model: str, layer: str, filters: Iterable[int] | None, params: dict) -> dict:
    body = {"model": model, "layer": layer, "params": params}
    if filters is not None:
        body["filters"] = list(filters)
    return body


def sweep_body(model: str, layers: Iterable[str], params: dict) -> dict:
    return {"model": model, "layers": list(layers), "params": params}


def image_path(directory: Path, visualization: Visualization, index: int) -> Path:
    image = visualization.images[index]
    unit = "layer" if image.filter is None else f"filter{image.filter:04d}"
    return directory / f"{visualization.layer}-{unit}-{image.index}.png"


class ServerSentEvents:
    """Parses `event:`/`data:` lines into (event, data) pairs; comments (pings) are skipped."""

    def __init__(self):
        self.name, self.data = "message", []

    def feed(self, line: str) -> tuple[str, dict] | None:
        if not line:
            done = (self.name, json.loads("\n".join(self.data))) if self.data else None
            self.name, self.data = "message", []
            return done
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "event":
            self.name = value
        elif field == "data":
            self.data.append(value)
        return None


def auth_headers(api_key: str | None) -> dict[str, str]:
    return {"X-API-Key": api_key} if api_key else {}


def list_query(model: str | None, layer: str | None, status: str | None) -> dict[str, str]:
    return {name: value for name, value in (("model", model), ("layer", layer), ("status", status)) if value}


def ending(events: ServerSentEvents, line: str, on_progress: ProgressCallback | None) -> Visualization | None:
    """Feed one line of an event stream; the visualisation once its final event arrived."""
    if (parsed := events.feed(line)) is None:
        return None
    name, data = parsed
    if name == "progress" and on_progress:
        on_progress(Progress.model_validate(data))
    return Visualization.model_validate(data) if name in TERMINAL else None


def events_path(visualization: Visualization | str) -> str:
    visualization_id = visualization if isinstance(visualization, str) else visualization.id
    return f"/v1/visualizations/{visualization_id}/events"


def failed(done: Visualization) -> ProblemError:
    return ProblemError(done.error or {"status": None, "title": done.status, "detail": f"visualisation {done.status}"})


class Client:
    def __init__(self, base_url: str = "http://127.0.0.1:8000", api_key: str | None = None, timeout: float = 30.0,
                 transport: httpx.BaseTransport | None = None):
        self.http = httpx.Client(base_url=base_url, headers=auth_headers(api_key), timeout=timeout, transport=transport)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_) -> None:
        self.http.close()

    def models(self) -> list[dict]:
        return checked(self.http.get("/v1/models")).json()

    def submit(self, model: str, layer: str, filters: Iterable[int] | None = None, **params) -> Visualization:
        """Queue (or find cached) the filters' images; params as in the API (steps, image_size, method, ...)."""
        answer = checked(self.http.post("/v1/visualizations", json=request_body(model, layer, filters, params)))
        return Visualization.model_validate(answer.json())

    def get(self, visualization_id: str) -> Visualization:
        return Visualization.model_validate(checked(self.http.get(f"/v1/visualizations/{visualization_id}")).json())

    def cancel(self, visualization_id: str) -> Visualization:
        return Visualization.model_validate(checked(self.http.delete(f"/v1/visualizations/{visualization_id}")).json())

    def sweep(self, model: str, layers: Iterable[str], **params) -> Sweep:
        """Queue (or resume) every filter of the layers; poll `get_sweep` for each layer's `sprite_url`."""
        answer = checked(self.http.post("/v1/sweeps", json=sweep_body(model, layers, params)))
        return Sweep.model_validate(answer.json())

    def get_sweep(self, sweep_id: str) -> Sweep:
        return Sweep.model_validate(checked(self.http.get(f"/v1/sweeps/{sweep_id}")).json())

    def list(self, model: str | None = None, layer: str | None = None, status: str | None = None) -> Iterator[Visualization]:
        """Every visualisation matching the filters, newest first, page after page."""
        query = list_query(model, layer, status)
        while True:
            page = checked(self.http.get("/v1/visualizations", params=query)).json()
            yield from (Visualization.model_validate(item) for item in page["items"])
            if not page["next_cursor"] or not page["items"]:
                return
            query["cursor"] = page["next_cursor"]

    def wait(self, visualization: Visualization | str, on_progress: ProgressCallback | None = None,
             timeout: float = 3600.0) -> Visualization:
        """Follow its event stream until it ends; `on_progress` gets each progress report."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:  # a dropped stream is followed again
            events = ServerSentEvents()
            with self.http.stream("GET", events_path(visualization), timeout=STREAM_TIMEOUT) as stream:
                if stream.status_code >= 400:
                    checked(httpx.Response(stream.status_code, content=stream.read(), headers=stream.headers))
                for line in stream.iter_lines():
                    if (done := ending(events, line, on_progress)) is not None:
                        return done
        raise TimeoutError(f"{events_path(visualization)} did not end within {timeout} s")

    def image(self, url: str) -> bytes:
        return checked(self.http.get(url)).content

    def unit_png(self, model: str, layer: str, unit: int, wait: float = 60.0, **params) -> bytes:
        """One unit's image by its stable URL, held up to `wait` seconds while it renders."""
        answer = checked(self.http.get(f"/v1/models/{model}/layers/{layer}/filters/{unit}.png",
                                       params=params | {"wait": wait}, timeout=wait + 30))
        if answer.status_code == 202:
            raise TimeoutError(f"unit {unit} of {layer} was not rendered within {wait} s; ask again later")
        return answer.content

    def save_images(self, visualization: Visualization, directory: str | Path) -> list[Path]:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        saved = []
        for index, image in enumerate(visualization.images):
            path = image_path(directory, visualization, index)
            path.write_bytes(self.image(image.url))
            saved.append(path)
        return saved

    def render(self, model: str, layer: str, filters: Iterable[int] | None = None, directory: str | Path | None = None,
               on_progress: ProgressCallback | None = None, timeout: float = 3600.0, **params) -> Visualization:
        """Submit, wait, and save the images into `directory` when one is given."""
        done = self.submit(model, layer, filters, **params)
        if done.status != "finished":
            done = self.wait(done, on_progress, timeout)
        if done.status != "finished":
            raise failed(done)
        if directory is not None:
            self.save_images(done, directory)
        return done


class AsyncClient:
    """`Client`'s methods as coroutines, for asyncio services."""

    def __init__(self, base_url: str = "http://127.0.0.1:8000", api_key: str | None = None, timeout: float = 30.0,
                 transport: httpx.AsyncBaseTransport | None = None):
        self.http = httpx.AsyncClient(base_url=base_url, headers=auth_headers(api_key), timeout=timeout,
                                      transport=transport)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *_) -> None:
        await self.http.aclose()

    async def models(self) -> list[dict]:
        return checked(await self.http.get("/v1/models")).json()

    async def submit(self, model: str, layer: str, filters: Iterable[int] | None = None, **params) -> Visualization:
        answer = checked(await self.http.post("/v1/visualizations", json=request_body(model, layer, filters, params)))
        return Visualization.model_validate(answer.json())

    async def get(self, visualization_id: str) -> Visualization:
        answer = checked(await self.http.get(f"/v1/visualizations/{visualization_id}"))
        return Visualization.model_validate(answer.json())

    async def cancel(self, visualization_id: str) -> Visualization:
        answer = checked(await self.http.delete(f"/v1/visualizations/{visualization_id}"))
        return Visualization.model_validate(answer.json())

    async def sweep(self, model: str, layers: Iterable[str], **params) -> Sweep:
        answer = checked(await self.http.post("/v1/sweeps", json=sweep_body(model, layers, params)))
        return Sweep.model_validate(answer.json())

    async def get_sweep(self, sweep_id: str) -> Sweep:
        return Sweep.model_validate(checked(await self.http.get(f"/v1/sweeps/{sweep_id}")).json())

    async def list(self, model: str | None = None, layer: str | None = None,
                   status: str | None = None) -> AsyncIterator[Visualization]:
        query = list_query(model, layer, status)
        while True:
            page = checked(await self.http.get("/v1/visualizations", params=query)).json()
            for item in page["items"]:
                yield Visualization.model_validate(item)
            if not page["next_cursor"] or not page["items"]:
                return
            query["cursor"] = page["next_cursor"]

    async def wait(self, visualization: Visualization | str, on_progress: ProgressCallback | None = None,
                   timeout: float = 3600.0) -> Visualization:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            events = ServerSentEvents()
            async with self.http.stream("GET", events_path(visualization), timeout=STREAM_TIMEOUT) as stream:
                if stream.status_code >= 400:
                    checked(httpx.Response(stream.status_code, content=await stream.aread(), headers=stream.headers))
                async for line in stream.aiter_lines():
                    if (done := ending(events, line, on_progress)) is not None:
                        return done
        raise TimeoutError(f"{events_path(visualization)} did not end within {timeout} s")

    async def image(self, url: str) -> bytes:
        return checked(await self.http.get(url)).content

    async def save_images(self, visualization: Visualization, directory: str | Path) -> list[Path]:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        saved = []
        for index, image in enumerate(visualization.images):
            path = image_path(directory, visualization, index)
            path.write_bytes(await self.image(image.url))
            saved.append(path)
        return saved

    async def render(self, model: str, layer: str, filters: Iterable[int] | None = None,
                     directory: str | Path | None = None, on_progress: ProgressCallback | None = None,
                     timeout: float = 3600.0, **params) -> Visualization:
        done = await self.submit(model, layer, filters, **params)
        if done.status != "finished":
            done = await self.wait(done, on_progress, timeout)
        if done.status != "finished":
            raise failed(done)
        if directory is not None:
            await self.save_images(done, directory)
        return done
