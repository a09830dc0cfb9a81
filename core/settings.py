"""The one settings class, read by the API, the workers and the command. Every field is an
environment variable, documented in the README."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.spec import Precision

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
MB = 1024**2


def comma_separated(text: str) -> list[str]:
    """The non-empty items of a comma-separated setting, stripped."""
    return [item.strip() for item in text.split(",") if item.strip()]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FILTERSCOPE_", extra="ignore")

    redis_url: str | None = Field(
        None,
        validation_alias=AliasChoices("REDIS_URL", "FILTERSCOPE_REDIS_URL"),
        description="Redis to use. Unset: `filterscope up` starts a private redis-server; "
        f"`api` and `worker` use {DEFAULT_REDIS_URL}.",
    )
    cache_redis_url: str | None = Field(
        None,
        validation_alias=AliasChoices("CACHE_REDIS_URL", "FILTERSCOPE_CACHE_REDIS_URL"),
        description="Redis for the image cache (allkeys-lru), apart from the state Redis (noeviction), so that "
        "a full cache evicts only images. Unset: the images share REDIS_URL.",
    )
    data_dir: Path = Field(Path("data"), description="Model files and the private Redis' data.")
    queue_name: str = Field("filterscope", description="The interactive queue; bulk work waits in `<name>-bulk`.")
    bulk_cost: int = Field(10**8, gt=0, description="Requests whose new work costs more than this (images x steps x "
                           "pixels: about 48 filters at the defaults) wait in the bulk queue, which workers serve "
                           "only when no interactive work waits.")
    job_timeout: int = Field(3600, gt=0, description="Seconds a render job may run before it is failed.")
    result_ttl: int = Field(86400, gt=0, description="Seconds a finished job's record is kept.")
    failure_ttl: int = Field(7 * 86400, gt=0, description="Seconds a failed job's record is kept.")
    image_ttl: int = Field(30 * 86400, gt=0, description="Seconds an image stays cached after it was rendered.")
    retry_after: int = Field(2, gt=0, description="Seconds clients are told to wait between polls.")
    worker_memory_mb: int = Field(2048, gt=0, description="Activation memory a worker may use for one batch.")
    redis_maxmemory: str = Field("1gb", description="Memory cap of the image cache's private redis-server of "
                                 "`filterscope up` (least recently used images go when it is reached).")
    state_redis_maxmemory: str = Field("2gb", description="Memory cap of the state's private redis-server of "
                                       "`filterscope up`, which also holds uploaded model files "
                                       "`filterscope up` (it never evicts: past it, writes are refused as 507).")
    weights_dir: Path | None = Field(None, description="Weights of the standard catalog; default <data_dir>/weights.")
    model_store_url: str = Field("", description="Where uploaded models and added weights are stored for every "
                                 "worker to fetch: an fsspec URL (`file:///srv/models`, `s3://bucket/models`); "
                                 "empty: the state Redis (chunked, never evicted).")
    max_upload_mb: int = Field(200, gt=0, description="Largest .keras file accepted by POST /v1/models.")
    api_keys: str = Field("", description="Comma-separated keys; when set, every state-changing request needs X-API-Key.")
    default_precision: Precision = Field(
        "float32", description="Precision of requests that name none, filled in by the API (so it is part of their "
        "image keys). `bfloat16` runs 2.5-4x faster on CPUs with AVX512-BF16/AMX and on GPUs.")
    worker_model_memory_mb: int = Field(4096, gt=0, description="Memory a worker may fill with loaded models (LRU).")
    inspection_memory_mb: int = Field(3072, gt=0, description="Memory the first load of an upload may take, in "
                                      "a child process, before it is killed and the upload rejected.")
    api_cache_mb: int = Field(256, ge=0, description="Images each API process keeps in memory to serve hits.")
    api_workers: int = Field(2, gt=0, description="API processes `filterscope api` runs (uvicorn workers).")
    allow_anonymous: bool = Field(False, description="Let `filterscope api`/`up` listen beyond loopback without keys.")
    rate_limit: str = Field("60/minute", description="State-changing requests per API key (or per anonymous "
                            "client) in a moving window, in the `limits` notation: 60/minute, 5/second, ...")
    max_active_per_key: int = Field(16, gt=0, description="Visualisations one key may have queued or running.")
    max_request_cost: int = Field(2 * 10**9, gt=0, description="Largest filters x diversity x steps x pixels "
                                  "one request may ask for.")
    redis_timeout: float = Field(1.0, gt=0, description="Seconds the API waits for Redis before answering 503.")
    browser_image_wait: int = Field(60, ge=0, le=120, description="Seconds an image URL loaded by a browser "
                                     "(`Sec-Fetch-Dest: image`, as an <img> tag does) is held for its image when "
                                     "the URL names no `wait`: a page cannot poll an <img>.")
    webhook_hosts: str = Field("", description="Comma-separated hosts that `callback_url` may name (`*.example.com` "
                               "for a domain); empty: webhooks off.")
    webhook_secret: str = Field("", description="The Standard Webhooks secret (`whsec_` + base64) that signs every "
                                "webhook; receivers verify with it.")
    cors_origins: str = Field("*", description="Comma-separated origins whose pages may call the API from a "
                              "browser (`*`: any; empty: none). Keys travel in a header, never in cookies.")
    record_ttl: int = Field(30 * 86400, gt=0, description="Seconds a visualisation record lives after its last POST.")

    @property
    def webhook_host_list(self) -> list[str]:
        return [host.lower() for host in comma_separated(self.webhook_hosts)]

    @property
    def cors_origin_list(self) -> list[str]:
        return comma_separated(self.cors_origins)

    @property
    def effective_redis_url(self) -> str:
        return self.redis_url or DEFAULT_REDIS_URL

    @property
    def effective_cache_redis_url(self) -> str:
        return self.cache_redis_url or self.effective_redis_url

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def uploads_dir(self) -> Path:
        return self.models_dir / "uploads"

    @property
    def effective_weights_dir(self) -> Path:
        return self.weights_dir or self.data_dir / "weights"

    @property
    def api_key_set(self) -> set[str]:
        return set(comma_separated(self.api_keys))

    @property
    def anonymous(self) -> bool:
        return not self.api_key_set

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * MB

    @property
    def worker_memory_bytes(self) -> int:
        return self.worker_memory_mb * MB

    @property
    def api_cache_bytes(self) -> int:
        return self.api_cache_mb * MB

    @property
    def inspection_memory_bytes(self) -> int:
        return self.inspection_memory_mb * MB

    @property
    def worker_model_memory_bytes(self) -> int:
        return self.worker_model_memory_mb * MB


@lru_cache
def get_settings() -> Settings:
    return Settings()
