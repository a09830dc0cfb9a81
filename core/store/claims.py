"""Claims on units being rendered: one worker renders an image at a time, even when overlapping
requests put it in two jobs. A claim expires unless its worker renews it, so the images of a
worker that died are taken over."""

from __future__ import annotations

from redis import Redis

from core import defaults
from core.store import keys


class Claims:
    def __init__(self, redis: Redis, owner: str, ttl: int = defaults.HEARTBEAT_TTL):
        self.redis, self.owner, self.ttl = redis, owner, ttl
        self.held: set[str] = set()

    def take(self, names: list[str]) -> set[str]:
        """Claim what nobody holds; returns the names this owner holds now (new or already held)."""
        with self.redis.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.set(keys.claim(name), self.owner, nx=True, ex=self.ttl)
            taken = pipe.execute()
        self.held |= {name for name, ok in zip(names, taken) if ok}
        return self.held & set(names)

    def renew(self) -> None:
        with self.redis.pipeline(transaction=False) as pipe:
            for name in self.held:
                pipe.expire(keys.claim(name), self.ttl)
            pipe.execute()

    def release(self) -> None:
        """Give up every claim still this owner's."""
        names = sorted(self.held)
        owners = self.redis.mget([keys.claim(name) for name in names]) if names else []
        mine = [keys.claim(name) for name, owner in zip(names, owners) if owner == self.owner.encode()]
        if mine:
            self.redis.delete(*mine)
        self.held.clear()
