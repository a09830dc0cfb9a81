"""What each client has queued or running, for the per-key cap on work."""

from __future__ import annotations

from redis import Redis
from rq.job import Job

from core.store import keys
from core.store.jobs import ACTIVE


def active(redis: Redis, client: str) -> int:
    """How many of the client's visualisations are queued or running; ended ones are forgotten."""
    name = keys.client_work(client)
    ids = [raw.decode() for raw in redis.smembers(name)]
    if not ids:
        return 0
    with redis.pipeline(transaction=False) as pipe:
        for job_id in ids:
            pipe.hget(Job.key_for(job_id), "status")
        statuses = pipe.execute()
    ended = [job_id for job_id, status in zip(ids, statuses) if status is None or status.decode() not in ACTIVE]
    if ended:
        redis.srem(name, *ended)
    return len(ids) - len(ended)


def add(redis: Redis, client: str, job_id: str, ttl: int) -> None:
    name = keys.client_work(client)
    with redis.pipeline() as pipe:
        pipe.sadd(name, job_id)
        pipe.expire(name, ttl)
        pipe.execute()
