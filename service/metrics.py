"""GET /metrics in the Prometheus text format.

This process's own counters (cache hits and misses, images served) come from the process; what the
workers did is read from Redis at each scrape (they count it there, so every API replica reports
the same): jobs by outcome, seconds rendering, image-steps rendered, queue depth, live workers.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from redis import Redis

from core.store import jobs, stats

router = APIRouter(tags=["health"])


class Metrics:
    """One app's metrics: its counters, and a collector of what Redis holds."""

    def __init__(self, redis: Redis, queue_name: str):
        self.redis, self.queue_name = redis, queue_name
        self.registry = CollectorRegistry()
        self.cache = Counter("filterscope_cache_lookups", "Visualisation requests answered from the cache (hit) "
                             "or that queued work (miss).", ["result"], registry=self.registry)
        self.images_served = Counter("filterscope_images_served", "PNG images served by this process.",
                                     registry=self.registry)
        self.registry.register(self)

    def collect(self):
        totals = stats.totals(self.redis)
        outcomes = CounterMetricFamily("filterscope_jobs", "Render jobs ended, by outcome.", labels=["outcome"])
        for outcome in stats.OUTCOMES:
            outcomes.add_metric([outcome], totals.get(f"jobs_{outcome}", 0.0))
        yield outcomes
        yield CounterMetricFamily("filterscope_render_seconds", "Seconds workers spent in render jobs.",
                                  value=totals.get("render_seconds", 0.0))
        yield CounterMetricFamily("filterscope_image_steps", "Optimisation steps rendered, one per image per step "
                                  "(its rate is the steps per second).", value=totals.get("image_steps", 0.0))
        depth = GaugeMetricFamily("filterscope_queue_depth", "Jobs waiting in each queue.", labels=["queue"])
        for name in jobs.queue_names(self.queue_name):
            depth.add_metric([name], jobs.queue(self.redis, name).count)
        yield depth
        yield GaugeMetricFamily("filterscope_live_workers", "Workers with a fresh heartbeat.",
                                value=len(jobs.live_workers(self.redis)))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response,
            responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}})
def metrics(request: Request) -> Response:
    return Response(request.app.state.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
