"""Named constants that are not settings: the limits of a request and the names in the queue."""

# Request limits, documented in the README's tables.
MAX_FILTERS = 256
MIN_STEPS, MAX_STEPS = 1, 4096
MIN_IMAGE_SIZE, MAX_IMAGE_SIZE = 16, 512
MAX_LEARNING_RATE = 50000.0  # above seed's default at 512 px (32,000), so any filled-in request can be sent back as is
MAX_SEED = 2**31 - 1
MAX_DIVERSITY = 8
MAX_SWEEP_LAYERS = 64  # layers one sweep may name; each is cut into visualisations within the limits above

MAX_IMAGE_WAIT = 120  # seconds an image request may be held (`?wait=`) until its image exists
IMAGE_WAIT_POLL = 0.2  # seconds between looks for the image a held request waits for

# Webhooks: a failed delivery is retried after 2, 8, 32, 128 and 512 seconds, then given up.
WEBHOOK_FIRST_RETRY = 2.0
WEBHOOK_BACKOFF = 4.0
WEBHOOK_ATTEMPTS = 6
WEBHOOK_TIMEOUT = 10.0  # seconds a receiver has to answer
WEBHOOK_POLL = 1.0  # seconds between a dispatcher's rounds
WEBHOOK_BATCH = 100  # watched visualisations and due deliveries looked at per round

DEFAULT_STEPS = 128
DEFAULT_IMAGE_SIZE = 128
DEFAULT_SEED = 0

# Work costing more than the bulk threshold (FILTERSCOPE_BULK_COST) waits in this queue, beside the
# interactive one named by FILTERSCOPE_QUEUE_NAME; workers take interactive work first.
BULK_QUEUE_SUFFIX = "-bulk"

# Job functions, by their import path: a queued job names the function a worker runs.
RENDER_TASK = "worker.tasks.render"
INSPECT_TASK = "worker.tasks.inspect"
INSPECTION_TIMEOUT = 600  # seconds an inspection job may run
INSPECTION_RESULT_TTL = 60

LOCK_TIMEOUT = 30  # seconds a per-job lock is held at most (and waited for)
PROGRESS_INTERVAL = 0.25  # seconds between progress writes to a job's meta
HELD_MODELS_TTL = 3600  # seconds a worker's list of loaded models outlives its last job

# Liveness. A running job's execution expires HEARTBEAT_TTL seconds after its worker's last
# heartbeat; an expired one is abandoned and requeued, at most MAX_REQUEUES times.
HEARTBEAT_INTERVAL = 2
HEARTBEAT_TTL = 10
MAX_REQUEUES = 2
WORKER_TTL = 20  # an idle worker heartbeats every WORKER_TTL - 15 seconds (RQ's dequeue timeout)
FRESH_WORKER_SECONDS = 15  # /readyz counts a worker whose last heartbeat is at most this old
MAINTENANCE_INTERVAL = 5  # seconds between an idle worker's sweeps for abandoned jobs
REDIS_PATIENCE = 120  # seconds a worker keeps retrying the write of a finished image while Redis is away
WORKER_CACHE_TIMEOUT = 10  # seconds a worker waits on the cache Redis before a write is retried
CLAIM_POLL = 0.5  # seconds between looks at images another worker is rendering for the same job
