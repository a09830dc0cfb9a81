"""The HTTP face of Filterscope. It never imports TensorFlow: models are known from the metadata
that workers publish to Redis."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from redis import Redis
from redis.asyncio import Redis as AsyncRedis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError
from redis.retry import Retry

from core import __version__
from core.settings import Settings, get_settings
from core.store.files import model_files
from core.store.images import ImageStore
from service import docs, gallery, problems
from service.access import AccessControl, Limiter
from service.health import router as health_router
from service.http_methods import HttpMethods
from service.images.fastpath import ImageCache, ImageFastPath
from service.images.router import router as images_router
from service.metrics import Metrics
from service.metrics import router as metrics_router
from service.models.router import router as models_router
from service.sweeps.router import router as sweeps_router
from service.upload_limit import UploadSizeLimit
from service.visualizations.router import router as visualizations_router
from service.visualizations.service import Visualizations
from service.webhooks import Dispatcher
from service.visualizations.events import router as events_router
from service.visualizations.units import router as units_router

DESCRIPTION = """
Filterscope synthesises the image that most excites one filter of one layer of a trained CNN
(activation maximisation) and serves it as a PNG.

1. `GET /v1/models` lists the models and their visualisable layers.
2. `POST /v1/visualizations` queues filters of a layer (202 + `Location`), or answers 200 at once
   when every image is already cached.
3. Poll `GET /v1/visualizations/{id}` until `status` is `finished`, then fetch `images[].url`.

Every error is `application/problem+json` (RFC 9457); validation errors list each field in `errors`.
"""


@asynccontextmanager
async def lifespan(app: FastAPI):
    settings = app.state.settings
    app.state.redis = sync_client(settings.effective_redis_url, settings.redis_timeout)
    app.state.cache_redis = sync_client(settings.effective_cache_redis_url, settings.redis_timeout)
    app.state.limiter = Limiter(app.state.redis, settings)
    app.state.model_files = model_files(settings.model_store_url, app.state.redis)
    app.state.metrics = Metrics(app.state.redis, settings.queue_name)
    fast = [async_client(url, settings.redis_timeout) for url in (settings.effective_cache_redis_url,
                                                                   settings.effective_redis_url)]
    app.state.image_cache = ImageCache(*fast, settings.api_cache_bytes)
    dispatcher = start_webhooks(app) if settings.webhook_host_list and settings.webhook_secret else None
    try:
        yield
    finally:
        if dispatcher is not None:
            dispatcher.cancel()
        for client in (app.state.redis, app.state.cache_redis):
            client.close()
        for client in fast:
            await client.aclose()


def start_webhooks(app: FastAPI) -> asyncio.Task:
    settings = app.state.settings
    images = ImageStore(app.state.cache_redis, app.state.redis, settings.image_ttl)
    dispatcher = Dispatcher(app.state.redis, settings, Visualizations(app.state.redis, settings, images))
    return asyncio.get_running_loop().create_task(dispatcher.run(), name="webhooks")


def sync_client(url: str, timeout: float) -> Redis:
    # Short timeouts and no retry on a timeout: with Redis away or frozen, requests fail fast with a
    # 503 instead of hanging (redis-py's default retries turn a 1 s timeout into 14 s). A dropped
    # connection is retried once, on a fresh one.
    return Redis.from_url(url, health_check_interval=30, socket_timeout=timeout, socket_connect_timeout=timeout,
                          retry=Retry(NoBackoff(), 1, supported_errors=(ConnectionError,)))


def async_client(url: str, timeout: float) -> AsyncRedis:
    return AsyncRedis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout,
                               retry=AsyncRetry(NoBackoff(), 1, supported_errors=(ConnectionError,)))


def create_app(settings: Settings | None = None) -> FastAPI:
    """The API; `settings` default to the environment's."""
    app = FastAPI(title="Filterscope", version=__version__, description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None)
    app.state.settings = settings = settings or get_settings()
    problems.install(app)
    docs.install(app)
    gallery.install(app)
    app.add_middleware(UploadSizeLimit)
    app.add_middleware(AccessControl)  # before any body is read: the key, the rate
    app.add_middleware(ImageFastPath)  # a cached image costs nothing else
    app.add_middleware(HttpMethods)  # HEAD as GET, also on the fast path
    # Outermost, so that every answer (fast-path images and problems too) carries the CORS headers.
    app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origin_list, allow_methods=["*"],
                       allow_headers=["Content-Type", "X-API-Key", "Last-Event-ID", "If-None-Match"],
                       expose_headers=["Location", "Content-Location", "Retry-After", "ETag", "X-Frame-Count"],
                       max_age=600)

    for router in (visualizations_router, events_router, units_router, sweeps_router, images_router, models_router,
                   health_router, metrics_router):
        app.include_router(router)
    return app
