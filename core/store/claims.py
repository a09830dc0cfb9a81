"""Claims on units being rendered: one worker renders an image at a time, even when overlapping
requests put it in two jobs. A claim expires unless its worker renews it, so the images of a
worker that died are taken over."""

from __future__ import annotations

import threading

from redis import Redis

from core import defaults
from core.store import keys


# Renew the claims that are still this owner's, and take back any that expired meanwhile (a Redis
# outage longer than the TTL) unless another owner took them since.
RENEW = """
for _, key in ipairs(KEYS) do
    local owner = redis.call('GET', key)
    if owner == false or owner == ARGV[1] then redis.call('SET', key, ARGV[1], 'EX', ARGV[2]) end
end
"""


class Claims:
    """Held by one worker; `renew` runs in its heartbeat thread while `take` runs in the job's."""

    def __init__(self, redis: Redis, owner: str, ttl: int = defaults.HEARTBEAT_TTL):
        self.redis, self.owner, self.ttl = redis, owner, ttl
        self.held: set[str] = set()
        self.lock = threading.Lock()
        self.renew_script = redis.register_script(RENEW)

    def take(self, names: list[str]) -> set[str]:
        """Claim what nobody holds; returns the names this owner holds now (new or already held)."""
        with self.redis.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.set(keys.claim(name), self.owner, nx=True, ex=self.ttl)
            taken = pipe.execute()
        with self.lock:
            self.held |= {name for name, ok in zip(names, taken) if ok}
            return self.held & set(names)

    def renew(self) -> None:
        with self.lock:  # held across the script: a release cannot slip in between and be undone
            names = [keys.claim(name) for name in self.held]
            if names:
                self.renew_script(keys=names, args=[self.owner, self.ttl])

    def release(self) -> None:
        """Give up every claim still this owner's."""
        with self.lock:
            names = sorted(self.held)
            self.held.clear()
        owners = self.redis.mget([keys.claim(name) for name in names]) if names else []
        mine = [keys.claim(name) for name, owner in zip(names, owners) if owner == self.owner.encode()]
        if mine:
            self.redis.delete(*mine)
