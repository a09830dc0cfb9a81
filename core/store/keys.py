"""Every Redis key Filterscope uses, built in one place (RQ's own keys are RQ's).

Changing a string here orphans what is stored under the old one: cached images, records and
uploads would no longer be found.
"""

from __future__ import annotations

PREFIX = "filterscope:"

MODELS = PREFIX + "models"  # hash: model id -> ModelInfo JSON, written by workers after inspecting a model
INSPECTION_FAILURES = PREFIX + "inspection-failures"  # hash: standard id -> {"stamp", "detail"} of a failed file
UPLOADS = PREFIX + "uploads"  # hash: model id -> UploadRecord JSON
WEIGHTS = PREFIX + "weights"  # hash: standard model id -> StoredWeights JSON (weights added through the API)
# set of "model:fingerprint" of deleted or replaced uploads: their images are not served.
REVOKED_MODELS = PREFIX + "revoked-models"
JOBS_CREATED = PREFIX + "stats:jobs_created"  # counter of render jobs ever enqueued, for operators
STATS = PREFIX + "stats:workers"  # hash of counters the workers keep: jobs by outcome, seconds, steps
LIMITS = PREFIX + "limits"  # prefix of the rate limiter's moving windows
WEBHOOK_WATCH = PREFIX + "webhooks:watch"  # sorted set: ids of visualisations with callbacks, until they end
WEBHOOK_DELIVERIES = PREFIX + "webhooks:deliveries"  # sorted set: delivery (JSON) by when it is due
VISUALIZATIONS = PREFIX + "visualizations"  # sorted set: record id by its last request, for listing newest first


def image(content_key: str) -> str:
    """Hash of one cached image: png, etag, activation, curve, created_at, owner, filmstrip."""
    return f"{PREFIX}image:{content_key}"


def derived(name: str) -> str:
    """An image made from cached images (a montage, an animation), named by what it was made of."""
    return f"{PREFIX}derived:{name}"


def visualization(visualization_id: str) -> str:
    """A visualisation's record (JSON)."""
    return f"{PREFIX}visualization:{visualization_id}"


def image_record(content_key: str) -> str:
    """The id of a record that holds this image, to render it again once the cache evicted it."""
    return f"{PREFIX}image-record:{content_key}"


def callbacks(visualization_id: str) -> str:
    """Set of the callback URLs to call when the visualisation ends."""
    return f"{PREFIX}callbacks:{visualization_id}"


def cancelled(job_id: str) -> str:
    """Set while a job is to stop: its worker looks at it with every progress report."""
    return f"{PREFIX}cancelled:{job_id}"


def lock(job_id: str) -> str:
    """The lock under which a job is looked up and, if need be, enqueued."""
    return f"{PREFIX}lock:{job_id}"


def claim(unit_key: str) -> str:
    """Which worker is rendering the unit whose first image has this content key (expiring)."""
    return f"{PREFIX}claim:{unit_key}"


def client_work(client: str) -> str:
    """Set of the visualisation ids one client (an API key's digest) has queued or running."""
    return f"{PREFIX}work:{client}"


def worker_models(worker_name: str) -> str:
    """The ids of the models one worker holds loaded (JSON list, expiring)."""
    return f"{PREFIX}worker-models:{worker_name}"


def file(digest: str) -> str:
    """Hash of a stored model file: size, chunks (written last)."""
    return f"{PREFIX}file:{digest}"


def file_chunk(digest: str, index: int) -> str:
    """One chunk of a stored model file's bytes."""
    return f"{PREFIX}file:{digest}:{index}"


def sweep(sweep_id: str) -> str:
    """A whole-layer sweep's record (JSON): its layers and the visualisations it was cut into."""
    return f"{PREFIX}sweep:{sweep_id}"
