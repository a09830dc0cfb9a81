"""Montages of a finished visualisation: the labelled grid and the progress animation.

Each is built once per set of images and kept with them in the cache. Concurrent requests for
one montage wait for a single build; a process builds one montage at a time (each holds a
canvas in memory); images are read in chunks and decoded one at a time, so memory stays bounded
whatever the number of images.
"""

from __future__ import annotations

import threading
from typing import Callable, Iterator

from redis import Redis
from redis.exceptions import LockError

from core.errors import NotFinished
from core.spec import ImageTarget
from core.store import keys
from core.store.images import ImageStore
from core.store.records import VisualizationRecord
from service.images.animation import animate
from service.images.grid import Layout, montage
from service.problems import Problem

READ_CHUNK = 64  # images read per Redis round trip while a montage is built
BUILD_TIMEOUT = 60  # seconds a build may hold its lock, and a request may wait for it
BUILDING = threading.BoundedSemaphore(1)


def label(target: ImageTarget, diversity: int) -> str:
    name = "layer" if target.filter is None else f"#{target.filter}"
    return f"{name}.{target.index}" if diversity > 1 else name


def kept_or_built(images: ImageStore, state: Redis, name: str, build: Callable[[], bytes]) -> bytes:
    """The montage kept under `name`, or built by this request while others for it wait."""
    if (kept := images.derived(name)) is not None:
        return kept
    try:
        with state.lock(keys.lock("derived:" + name), timeout=BUILD_TIMEOUT, blocking_timeout=BUILD_TIMEOUT,
                        sleep=0.05):
            if (kept := images.derived(name)) is not None:
                return kept  # built while this request waited
            with BUILDING:
                built = build()
            images.keep_derived(name, built)
            return built
    except LockError:
        raise Problem(503, "busy", "This montage is still being built; retry shortly.",
                      headers={"Retry-After": "2"}) from None


def chunks(record: VisualizationRecord, read: Callable[[list[str]], list]) -> Iterator[tuple[str, object]]:
    """(label, what `read` returns for it) for every image, read READ_CHUNK at a time."""
    for start in range(0, len(record.images), READ_CHUNK):
        targets = record.images[start:start + READ_CHUNK]
        for target, found in zip(targets, read([t.key for t in targets])):
            if found is None:
                raise NotFinished(f"Visualisation {record.id} lost an image while its montage was being made; poll it.")
            yield label(target, record.params.diversity), found


def grid(images: ImageStore, record: VisualizationRecord) -> bytes:
    layout = Layout(len(record.images), record.params.image_size)
    return montage(layout, ((name, png) for name, (png, _) in chunks(record, images.pngs)))


def progress_animation(images: ImageStore, record: VisualizationRecord) -> bytes:
    animation, _ = animate(len(record.images), chunks(record, images.filmstrips))
    return animation
