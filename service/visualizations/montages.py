"""Montages of a finished visualisation: the labelled grid and the progress animation.

Each is built once per set of images and kept with them in the cache. One request builds a
montage while others for it are told to retry in a moment; a process builds one montage at a time
(each holds a canvas in memory); images are read in chunks and decoded one at a time, so memory stays bounded
whatever the number of images.
"""

from __future__ import annotations

import threading
from contextlib import suppress
from typing import Callable, Iterator

from redis import Redis
from redis.exceptions import LockError

from core.errors import NotFinished
from core.spec import ImageTarget, Objective
from core.store import keys
from core.store.images import ImageStore
from core.store.records import VisualizationRecord
from service.images.animation import animate
from service.images.grid import Layout, montage
from service.problems import Problem

READ_CHUNK = 64  # images read per Redis round trip while a montage is built
BUILD_TIMEOUT = 60  # seconds a build holds its lock at most
BUSY_WAIT = 2  # seconds a request waits for a build of this process, or of the same montage elsewhere
BUILDING = threading.BoundedSemaphore(1)


def label(target: ImageTarget, diversity: int) -> str:
    name = "layer" if target.filter is None else f"#{target.filter}"
    return f"{name}.{target.index}" if diversity > 1 else name


def kept_or_built(images: ImageStore, state: Redis, name: str, build: Callable[[], bytes]) -> bytes:
    """The montage kept under `name`, or built now. Nobody waits long: a request that finds this
    process already building, or another request building the same montage, is told to retry."""
    if (kept := images.derived(name)) is not None:
        return kept
    if not BUILDING.acquire(timeout=BUSY_WAIT):
        raise busy()
    try:
        lock = state.lock(keys.lock("derived:" + name), timeout=BUILD_TIMEOUT, sleep=0.05)
        if not lock.acquire(blocking_timeout=BUSY_WAIT):
            raise busy()
        try:
            if (kept := images.derived(name)) is None:  # not built while this request waited
                kept = build()
                images.keep_derived(name, kept)
            return kept
        finally:
            with suppress(LockError):  # a build that outlived its lock still stands
                lock.release()
    finally:
        BUILDING.release()


def busy() -> Problem:
    return Problem(503, "busy", "Montages are being built for other requests; retry shortly.",
                   headers={"Retry-After": str(BUSY_WAIT)})


def chunks(record: VisualizationRecord, read: Callable[[list[str]], list]) -> Iterator[tuple[str, object, str]]:
    """(label, what `read` returns for it, key) for every image, read READ_CHUNK at a time."""
    for start in range(0, len(record.images), READ_CHUNK):
        targets = record.images[start:start + READ_CHUNK]
        for target, found in zip(targets, read([t.key for t in targets])):
            if found is None:
                raise NotFinished(f"Visualisation {record.id} lost an image while its montage was being made; poll it.")
            yield label(target, record.params.diversity), found, target.key


def finished_etags(images: ImageStore, record: VisualizationRecord) -> list[str]:
    """The ETags of every image, in order; 409 while any is missing."""
    cached = images.meta([t.key for t in record.images])
    if len(cached) < len(record.images):
        raise NotFinished(f"Visualisation {record.id} is not finished; poll it until its status is 'finished'.")
    return [cached[t.key].etag for t in record.images]


def marks_dead(objective: Objective) -> bool:
    """A silent unit is a failure for an objective that pushes it up; for `negative` it is the aim."""
    return objective != Objective.negative


def grid(images: ImageStore, record: VisualizationRecord) -> bytes:
    layout = Layout(len(record.images), record.params.image_size)
    dead = {key for key, meta in images.meta([t.key for t in record.images]).items()
            if meta.quality and not meta.quality.alive and marks_dead(record.params.objective)}
    return montage(layout, ((name, png, key in dead) for name, (png, _), key in chunks(record, images.pngs)))


def progress_animation(images: ImageStore, record: VisualizationRecord) -> bytes:
    animation, _ = animate(len(record.images), ((name, strip) for name, strip, _ in chunks(record, images.filmstrips)))
    return animation
