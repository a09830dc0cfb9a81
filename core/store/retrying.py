"""Riding out a Redis blip: a write that must not be lost is retried with backoff."""

from __future__ import annotations

import logging
import time
from typing import Callable, TypeVar

from redis.exceptions import ConnectionError, TimeoutError

log = logging.getLogger("filterscope.store")
T = TypeVar("T")

FIRST_WAIT, MAX_WAIT = 0.2, 5.0


def retrying(call: Callable[[], T], patience: float, what: str) -> T:
    """`call()`, again and again while Redis cannot be reached, for up to `patience` seconds."""
    deadline = time.monotonic() + patience
    wait = FIRST_WAIT
    while True:
        try:
            return call()
        except (ConnectionError, TimeoutError) as error:
            if time.monotonic() + wait > deadline:
                raise
            log.warning("%s: Redis unreachable (%s); retrying in %.1f s", what, error, wait)
            time.sleep(wait)
            wait = min(wait * 2, MAX_WAIT)
