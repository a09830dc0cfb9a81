"""What workers did, counted in Redis so that any API replica can report it: jobs by outcome,
seconds spent rendering and image-steps rendered."""

from __future__ import annotations

from redis import Redis

from core.store import keys

OUTCOMES = ("finished", "failed", "cancelled")


def record_job(redis: Redis, outcome: str, seconds: float, image_steps: int) -> None:
    with redis.pipeline() as pipe:
        pipe.hincrby(keys.STATS, f"jobs_{outcome}", 1)
        pipe.hincrbyfloat(keys.STATS, "render_seconds", seconds)
        pipe.hincrby(keys.STATS, "image_steps", image_steps)
        pipe.execute()


def totals(redis: Redis) -> dict[str, float]:
    return {field.decode(): float(value) for field, value in redis.hgetall(keys.STATS).items()}
