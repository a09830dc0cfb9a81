"""What each client has queued or running, for the per-key cap on work."""

from __future__ import annotations

from redis import Redis
from rq.job import Job

from core.store import keys, sweeps
from core.store.jobs import ACTIVE


def active(redis: Redis, client: str) -> int:
    """How many of the client's visualisations (and sweeps, each once) are queued or running;
    ended ones are forgotten."""
    name = keys.client_work(client)
    ids = [raw.decode() for raw in redis.smembers(name)]
    if not ids:
        return 0
    jobs_of = {entry: sweep_jobs(redis, entry) if entry.startswith(sweeps.WORK_PREFIX) else [entry] for entry in ids}
    with redis.pipeline(transaction=False) as pipe:
        for job_ids in jobs_of.values():
            for job_id in job_ids:
                pipe.hget(Job.key_for(job_id), "status")
        statuses = iter(pipe.execute())
    running = {entry: [next(statuses) for _ in job_ids] for entry, job_ids in jobs_of.items()}
    ended = [entry for entry, found in running.items()
             if not any(status is not None and status.decode() in ACTIVE for status in found)]
    if ended:
        redis.srem(name, *ended)
    return len(ids) - len(ended)


def sweep_jobs(redis: Redis, entry: str) -> list[str]:
    record = sweeps.load(redis, entry.removeprefix(sweeps.WORK_PREFIX))
    return record.chunk_ids if record else []


def add(redis: Redis, client: str, job_id: str, ttl: int) -> None:
    name = keys.client_work(client)
    with redis.pipeline() as pipe:
        pipe.sadd(name, job_id)
        pipe.expire(name, ttl)
        pipe.execute()
