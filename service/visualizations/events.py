"""Live progress as Server-Sent Events, for the browser's EventSource and `curl -N`.

A stream tells what changed since it began: `progress` ({step, steps}) as the job advances, `image`
(an `images[]` entry with its URL and numbers) as each image lands in the cache, and at the end
one of `finished`, `failed`, `cancelled` or `expired` carrying the whole visualisation, after which
the server closes the stream (an EventSource should close too, or it reconnects and is told the
end again). The state is read every EVENTS_POLL seconds, off the event loop.
"""

from __future__ import annotations

import asyncio
import json
from typing import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sse_starlette import EventSourceResponse, ServerSentEvent

from core.store.records import VisualizationRecord
from service.http_methods import HEAD
from service.problems import responses
from service.visualizations.router import VisualizationsDep, load_record
from service.visualizations.schemas import Visualization
from service.visualizations.service import Visualizations

router = APIRouter(prefix="/v1/visualizations", tags=["visualizations"])

EVENTS_POLL = 0.5  # seconds between looks at a followed visualisation
PING_SECONDS = 15  # a comment line that keeps proxies from closing a quiet stream
TERMINAL = ("finished", "failed", "cancelled", "expired")


def event(name: str, data: dict) -> ServerSentEvent:
    return ServerSentEvent(json.dumps(data, separators=(",", ":")), event=name)


async def current(visualizations: Visualizations, record: VisualizationRecord) -> Visualization:
    return await run_in_threadpool(lambda: visualizations.describe(record, visualizations.cached(record)))


async def changes(request: Request, visualizations: Visualizations, record: VisualizationRecord) -> AsyncIterator:
    sent_images: set[str] = set()
    sent_progress = None
    while True:
        state = await current(visualizations, record)
        for image in state.images:
            if image.url not in sent_images:
                sent_images.add(image.url)
                yield event("image", image.model_dump(mode="json"))
        progress = state.progress.model_dump(mode="json")
        if progress != sent_progress and state.status not in TERMINAL:
            sent_progress = progress
            yield event("progress", progress)
        if state.status in TERMINAL:
            yield event(state.status, state.model_dump(mode="json"))
            return
        if await request.is_disconnected():
            return
        await asyncio.sleep(EVENTS_POLL)


@router.get(
    "/{visualization_id}/events",
    summary="Follow a visualisation live (Server-Sent Events)",
    description="Events: `progress` ({step, steps}), `image` (an `images[]` entry, as each image is cached), then "
    "one of `finished`, `failed`, `cancelled`, `expired` with the whole visualisation, and the stream ends.",
    response_class=Response,
    responses={200: {"content": {"text/event-stream": {}}, "description": "The event stream."},
               **responses({404: "Unknown visualisation"})},
)
async def follow_visualization(visualization_id: str, request: Request, visualizations: VisualizationsDep) -> Response:
    record = await run_in_threadpool(load_record, visualizations, visualization_id)
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}  # no proxy buffering either
    if request.scope.get(HEAD):
        return Response(media_type="text/event-stream", headers=headers)
    return EventSourceResponse(changes(request, visualizations, record), ping=PING_SECONDS, headers=headers)
