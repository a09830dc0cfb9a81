"""Webhooks: a POST's optional `callback_url` is called when its visualisation finishes or fails,
signed as the Standard Webhooks specification describes, retried with backoff, outside any request.

Subscriptions and deliveries live in Redis, so any API replica may deliver: each replica's
dispatcher looks at the watched visualisations and at the deliveries that are due, and a delivery
is taken by whichever replica removes it from the due set first.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from datetime import datetime, timezone
from urllib.parse import urlsplit

import httpx
from fastapi.concurrency import run_in_threadpool
from redis import Redis
from standardwebhooks.webhooks import Webhook

from core import defaults
from core.errors import InvalidRequest
from core.settings import Settings
from core.store import keys, records
from service.visualizations.service import Visualizations

log = logging.getLogger("filterscope.webhooks")
ENDINGS = {"finished": "visualization.finished", "failed": "visualization.failed",
           "cancelled": "visualization.cancelled", "expired": "visualization.failed"}


def host_allowed(url: str, allowed: list[str]) -> bool:
    """`allowed` holds host names, or `*.example.com` for any host under that domain."""
    host = (urlsplit(url).hostname or "").lower()
    return any(host == pattern or (pattern.startswith("*.") and host.endswith(pattern[1:])) for pattern in allowed)


def check_callback(url: str, settings: Settings) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequest("callback_url", "must be an absolute http or https URL")
    if not settings.webhook_host_list or not settings.webhook_secret:
        raise InvalidRequest("callback_url", "webhooks are off on this server (its operator sets "
                             "FILTERSCOPE_WEBHOOK_HOSTS and FILTERSCOPE_WEBHOOK_SECRET)")
    if not host_allowed(url, settings.webhook_host_list):
        raise InvalidRequest("callback_url", f"host {parts.hostname!r} is not in this server's webhook allow-list: "
                             f"{', '.join(settings.webhook_host_list)}")


def subscribe(redis: Redis, visualization_id: str, url: str, ttl: int) -> None:
    with redis.pipeline() as pipe:
        pipe.sadd(keys.callbacks(visualization_id), url)
        pipe.expire(keys.callbacks(visualization_id), ttl)
        pipe.zadd(keys.WEBHOOK_WATCH, {visualization_id: time.time()})
        pipe.expire(keys.WEBHOOK_WATCH, ttl)
        pipe.execute()


def delivery(visualization_id: str, url: str, event: str, attempt: int = 0) -> str:
    # The message id depends on what is announced, not on who noticed: replicas that notice the
    # same ending at once add the same member, once.
    message = hashlib.sha256(f"{visualization_id} {url} {event}".encode()).hexdigest()[:24]
    return json.dumps({"id": f"msg_{message}", "visualization": visualization_id, "url": url, "event": event,
                       "attempt": attempt})


def retry_delay(attempt: int) -> float:
    return defaults.WEBHOOK_FIRST_RETRY * defaults.WEBHOOK_BACKOFF ** attempt


class Dispatcher:
    def __init__(self, redis: Redis, settings: Settings, visualizations: Visualizations):
        self.redis, self.settings, self.visualizations = redis, settings, visualizations
        self.signer = Webhook(settings.webhook_secret) if settings.webhook_secret else None

    async def run(self) -> None:
        async with httpx.AsyncClient(timeout=defaults.WEBHOOK_TIMEOUT, follow_redirects=False) as http:
            while True:
                try:
                    await run_in_threadpool(self.notice_endings)
                    for member in await run_in_threadpool(self.take_due):
                        await self.send(http, json.loads(member))
                except Exception:  # Redis away, or a bug: the next round tries again
                    log.exception("webhook round failed")
                await asyncio.sleep(defaults.WEBHOOK_POLL)

    def notice_endings(self) -> None:
        for raw in self.redis.zrange(keys.WEBHOOK_WATCH, 0, defaults.WEBHOOK_BATCH - 1):
            visualization_id = raw.decode()
            record = records.load(self.redis, visualization_id)
            if record is None:
                self.redis.zrem(keys.WEBHOOK_WATCH, visualization_id)
                continue
            status = self.visualizations.describe(record, self.visualizations.cached(record)).status
            if status not in ENDINGS:
                continue
            urls = [url.decode() for url in self.redis.smembers(keys.callbacks(visualization_id))]
            with self.redis.pipeline() as pipe:
                for url in urls:
                    pipe.zadd(keys.WEBHOOK_DELIVERIES, {delivery(visualization_id, url, ENDINGS[status]): time.time()},
                              nx=True)
                pipe.expire(keys.WEBHOOK_DELIVERIES, self.settings.record_ttl)
                pipe.delete(keys.callbacks(visualization_id))
                pipe.zrem(keys.WEBHOOK_WATCH, visualization_id)
                pipe.execute()

    def take_due(self) -> list[str]:
        due = self.redis.zrangebyscore(keys.WEBHOOK_DELIVERIES, "-inf", time.time(), start=0, num=defaults.WEBHOOK_BATCH)
        return [member.decode() for member in due if self.redis.zrem(keys.WEBHOOK_DELIVERIES, member)]

    def payload(self, task: dict) -> str | None:
        record = records.load(self.redis, task["visualization"])
        if record is None:
            return None
        resource = self.visualizations.describe(record, self.visualizations.cached(record))
        return json.dumps({"type": task["event"], "timestamp": datetime.now(timezone.utc).isoformat(),
                           "data": resource.model_dump(mode="json")})

    async def send(self, http: httpx.AsyncClient, task: dict) -> None:
        if self.signer is None or not host_allowed(task["url"], self.settings.webhook_host_list):
            log.warning("webhook to %s dropped: its host is no longer allowed", task["url"])
            return
        body = await run_in_threadpool(self.payload, task)
        if body is None:
            return
        sent_at = datetime.now(timezone.utc)
        headers = {"content-type": "application/json", "webhook-id": task["id"],
                   "webhook-timestamp": str(int(sent_at.timestamp())),
                   "webhook-signature": self.signer.sign(task["id"], sent_at, body)}
        try:
            answer = await http.post(task["url"], content=body, headers=headers)
            if 200 <= answer.status_code < 300:
                return
            reason = f"answered {answer.status_code}"
        except httpx.HTTPError as error:
            reason = f"{type(error).__name__}: {error}"
        await run_in_threadpool(self.retry_later, task, reason)

    def retry_later(self, task: dict, reason: str) -> None:
        attempt = task["attempt"] + 1
        if attempt >= defaults.WEBHOOK_ATTEMPTS:
            log.warning("webhook %s to %s given up after %d attempts: %s", task["id"], task["url"], attempt, reason)
            return
        log.info("webhook %s to %s %s; retry %d in %.0f s", task["id"], task["url"], reason, attempt,
                 retry_delay(task["attempt"]))
        member = json.dumps(task | {"attempt": attempt})
        self.redis.zadd(keys.WEBHOOK_DELIVERIES, {member: time.time() + retry_delay(task["attempt"])})
