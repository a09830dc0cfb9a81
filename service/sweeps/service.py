"""Sweeps: every filter of one or more layers, cut into visualisations within the request limits.

Each chunk is a visualisation like any other (content id, record, job, cached images), so a sweep
is deduplicated against the cache and against other requests for free, and posting it again
resumes it: only what is missing is queued. The chunks of one sweep wait in the queue its whole
cost chooses, and count once against their client's cap on work.
"""

from __future__ import annotations

import time

from rq.job import JobStatus

from core import content, defaults, methods
from core.errors import InvalidRequest
from core.models import ModelInfo
from core.spec import ENGINE_VERSION, FilledParams
from core.store import jobs, records, sweeps
from core.store.jobs import ACTIVE, status_of
from core.store.records import VisualizationRecord
from core.store.sweeps import SweepLayer, SweepRecord
from service.access import check_cost, check_room, pixel_steps
from service.sweeps.schemas import Sweep, SweepLayerStatus, SweepRequest
from service.visualizations.schemas import VisualizationRequest
from service.visualizations.service import SweepPart, Visualizations, cancelled_by_request, timestamp
from service.visualizations.validation import build_record


def filters_per_chunk(params: FilledParams, max_cost: int) -> int:
    """As many filters as one request may ask for, by count and by cost."""
    check_cost(params, params.diversity, max_cost)  # one filter alone must fit
    return max(1, min(defaults.MAX_FILTERS, max_cost // pixel_steps(params, params.diversity)))


def chunked(filters: int, size: int) -> list[list[int]]:
    return [list(range(start, min(start + size, filters))) for start in range(0, filters, size)]


def sweep_cost(chunks: list[VisualizationRecord]) -> int:
    return sum(pixel_steps(c.params, len(c.images)) for c in chunks)


class Sweeps:
    def __init__(self, visualizations: Visualizations):
        self.visualizations = visualizations
        self.redis = visualizations.redis
        self.settings = visualizations.settings

    def plan(self, request: SweepRequest, model: ModelInfo) -> tuple[SweepRecord, list[VisualizationRecord]]:
        """The sweep's record and its chunks' records, every default filled in."""
        params = request.params.filled(self.settings.default_precision)
        per_chunk = filters_per_chunk(params, self.settings.max_request_cost)
        layers, chunks = [], []
        for position, name in enumerate(request.layers):
            layer = model.layer(name)
            if layer is None:
                names = ", ".join(known.name for known in model.layers)
                raise InvalidRequest(f"layers[{position}]", f"model {model.id!r} has no visualisable layer {name!r}; "
                                     f"valid layers: {names}")
            parts = chunked(layer.filters, per_chunk) if methods.OBJECTIVES[params.objective].takes_filters else [None]
            mine = [build_record(VisualizationRequest(model=model.id, layer=name, filters=part, params=request.params),
                                 model, self.settings.default_precision) for part in parts]
            layers.append(SweepLayer(layer=name, filters=layer.filters, chunks=[c.id for c in mine]))
            chunks += mine
        record = SweepRecord(id=content.sweep_id(model.id, model.fingerprint, request.layers, params, ENGINE_VERSION),
                             model=model.id, fingerprint=model.fingerprint, params=params, engine=ENGINE_VERSION,
                             layers=layers, created_at=time.time())
        return record, chunks

    def start(self, sweep: SweepRecord, chunks: list[VisualizationRecord], client: str) -> tuple[SweepRecord, bool]:
        """Store the sweep and queue what of it is missing; returns the stored sweep and whether
        anything is on its way."""
        cached = {chunk.id: self.visualizations.cached(chunk) for chunk in chunks}
        missing = [chunk for chunk in chunks if len(cached[chunk.id]) < len(chunk.images)]
        if missing and not any(status_of(jobs.fetch(self.redis, c.id)) in ACTIVE for c in missing):
            check_room(self.redis, self.settings, client)  # a sweep is admitted once, as one piece of work
        for chunk in missing:  # a chunk over the limits is refused before anything is stored
            check_cost(chunk.params, len(chunk.images) - len(cached[chunk.id]), self.settings.max_request_cost)
        sweep = sweeps.save(self.redis, sweep, self.settings.record_ttl)
        part = SweepPart(cost=sweep_cost(chunks), work_entry=sweeps.WORK_PREFIX + sweep.id)
        queued = False
        for chunk in chunks:
            stored = self.visualizations.save(chunk)
            queued |= self.visualizations.ensure_rendered(stored, cached[chunk.id], client, part_of=part)
        return sweep, queued

    def cancel(self, sweep: SweepRecord) -> None:
        for chunk_id in sweep.chunk_ids:
            if (record := records.load(self.redis, chunk_id)) is not None:
                self.visualizations.cancel(record)

    def chunk_status(self, chunk_id: str) -> tuple[str, int, int]:
        """(status, images cached, images) of one chunk."""
        record = records.load(self.redis, chunk_id)
        if record is None:
            return "expired", 0, 0
        missing = set(self.visualizations.images.missing([t.key for t in record.images]))
        done, total = len(record.images) - len(missing), len(record.images)
        if not missing:
            return "finished", done, total
        job = jobs.fetch(self.redis, chunk_id)
        status = status_of(job)
        if status == JobStatus.STARTED:
            return "running", done, total
        if status in ACTIVE:
            return "queued", done, total
        if status == JobStatus.CANCELED or (job is not None and cancelled_by_request(job)):
            return "cancelled", done, total
        return ("failed" if status == JobStatus.FAILED else "expired"), done, total

    def describe(self, sweep: SweepRecord) -> Sweep:
        layers = [self.describe_layer(sweep, layer) for layer in sweep.layers]
        return Sweep(id=sweep.id, status=combined([layer.status for layer in layers]), model=sweep.model,
                     params=sweep.params, images=sum(layer.images for layer in layers),
                     images_done=sum(layer.images_done for layer in layers), layers=layers,
                     created_at=timestamp(sweep.created_at))

    def describe_layer(self, sweep: SweepRecord, layer: SweepLayer) -> SweepLayerStatus:
        found = [self.chunk_status(chunk_id) for chunk_id in layer.chunks]
        status = combined([status for status, _, _ in found])
        return SweepLayerStatus(
            layer=layer.layer, filters=layer.filters, status=status, images=sum(total for _, _, total in found),
            images_done=sum(done for _, done, _ in found), visualizations=layer.chunks,
            sprite_url=f"/v1/sweeps/{sweep.id}/layers/{layer.layer}/sprite.png" if status == "finished" else None)

    def layer_record(self, sweep: SweepRecord, layer: SweepLayer) -> VisualizationRecord | None:
        """The whole layer as one record (every chunk's images in filter order), for its sprite sheet."""
        parts = [records.load(self.redis, chunk_id) for chunk_id in layer.chunks]
        if any(part is None for part in parts):
            return None
        return parts[0].model_copy(update={"id": sweep.id, "filters": [f for p in parts for f in p.filters],
                                           "images": [t for p in parts for t in p.images]})


def combined(statuses: list[str]) -> str:
    """One status for many: finished when all are; else the first trouble; else running while any
    part runs or some are done; else queued."""
    if all(status == "finished" for status in statuses):
        return "finished"
    for trouble in ("failed", "cancelled", "expired"):
        if trouble in statuses:
            return trouble
    return "running" if "running" in statuses or "finished" in statuses else "queued"
